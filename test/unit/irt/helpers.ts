// Shared fixtures of the IRT tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LSAT7_CSV = fileURLToPath(new URL('../../fixtures/LSAT7_freq.csv', import.meta.url));

/** LSAT7 expanded from its pattern frequencies: 1,000 rows of 5 responses, patterns in file order. */
export function lsat7Rows(): number[][] {
  const lines = readFileSync(LSAT7_CSV, 'utf8').trim().split('\n').slice(1);
  const rows: number[][] = [];
  for (const line of lines) {
    const fields = line.split(',').map(Number);
    const freq = fields.pop()!;
    for (let i = 0; i < freq; i++) rows.push(fields);
  }
  return rows;
}

/** Root mean squared difference of two equally long lists. */
export function rmse(x: readonly number[], y: readonly number[]): number {
  return Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / x.length);
}
