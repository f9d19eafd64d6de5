// Shared fixtures of the IRT tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
export const LSAT7_CSV = fixture('LSAT7_freq.csv');
export const LSAT6_CSV = fixture('LSAT6_freq.csv');
export const MIRT_FIT_REFERENCE = fixture('mirt-fit-reference.md');

/** A pattern-frequency table expanded to one row per person, patterns in file order. */
export function freqRows(file: string): number[][] {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const rows: number[][] = [];
  for (const line of lines) {
    const fields = line.split(',').map(Number);
    const freq = fields.pop()!;
    for (let i = 0; i < freq; i++) rows.push(fields);
  }
  return rows;
}

/** LSAT7 expanded from its pattern frequencies: 1,000 rows of 5 responses, patterns in file order. */
export function lsat7Rows(): number[][] {
  return freqRows(LSAT7_CSV);
}

/** Root mean squared difference of two equally long lists. */
export function rmse(x: readonly number[], y: readonly number[]): number {
  return Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / x.length);
}
