// Why an item of the bank needs a look (docs/dashboard.md → Item bank), apart from the chart module so
// the routes' schemas can name them without loading the chart library.

export type ItemFlag = 'drift' | 'misfit' | 'overexposed' | 'inactive';

/** Drawn in this order (the worst on top); an item with several flags shows the last of them. */
export const FLAG_ORDER = ['inactive', 'overexposed', 'misfit', 'drift'] as const satisfies ItemFlag[];
