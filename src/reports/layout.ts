// The report layout: the contract between the layout (render.ts, one template for both editions)
// and the renderers (html.ts, pdf.ts), which draw the same sections and blocks.
import type { Chart } from './charts.js';
import type { Edition, Locale } from './view-model.js';

export const SECTION_IDS = [
  'kpis',
  'ability',
  'goal',
  'churn',
  'topics',
  'daily',
  'targeting',
  'recommendations',
] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export type Block =
  | { kind: 'paragraph'; text: string; note?: boolean }
  /** `muted` columns hold explanations, drawn smaller and lighter. */
  | { kind: 'table'; columns: { title: string; numeric: boolean; muted?: boolean }[]; rows: string[][] }
  /** `size` is the chart's share of the text width. */
  | { kind: 'chart'; chart: Chart; alt: string; caption?: string; size: number }
  | { kind: 'list'; items: string[] };

export interface Section {
  id: SectionId;
  title: string;
  blocks: Block[];
}

export interface ReportLayout {
  locale: Locale;
  edition: Edition;
  title: string;
  /** Label/value pairs of the header. */
  meta: [string, string][];
  /** A notice under the header (the empty week). */
  notice: string | null;
  sections: Section[];
  /** For the PDF's metadata: its creation date, and with `subject` its document id. */
  generatedAt: string;
  subject: string;
}
