// Shared fixtures of the IRT tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ItemParams } from '../../../src/irt/index.js';

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

export interface MirtFitReference {
  items: ItemParams[];
  variance: number;
  itemStats: Record<string, number>[];
  model: Record<string, number>;
}

/** The section of mirt-fit-reference.md for one data set and item type (mirt's estimates and statistics). */
export function mirtFitReference(dataset: string, itemtype: string): MirtFitReference {
  const text = readFileSync(MIRT_FIT_REFERENCE, 'utf8');
  const start = text.indexOf(`### ${dataset}, itemtype = '${itemtype}'`);
  assert.ok(start >= 0, `${dataset} ${itemtype} in the reference`);
  const next = text.indexOf('### ', start + 4);
  const section = text.slice(start, next < 0 ? undefined : next);
  const tables = section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| item'))
    .map((l) => l.split('|').slice(2, -1).map(Number));
  const items = tables.filter((r) => r.length === 2).map(([a, d]) => ({ a, b: -d / a, c: 0 }));
  const cols = ['outfit', 'z.outfit', 'infit', 'z.infit', 'S_X2', 'df.S_X2', 'RMSEA.S_X2', 'p.S_X2'];
  const itemStats = tables
    .filter((r) => r.length === cols.length)
    .map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
  const num = (re: RegExp) => Number(section.match(re)![1]);
  const f = '(-?[0-9.]+)';
  return {
    items,
    variance: num(new RegExp(`variance ${f}`)),
    itemStats,
    model: {
      M2: num(new RegExp(`M2 ${f}`)),
      df: num(new RegExp(`df ${f}`)),
      p: num(new RegExp(`, p ${f}`)),
      RMSEA: num(new RegExp(`RMSEA ${f}`)),
      RMSEA_5: num(new RegExp(`\\(5% ${f}`)),
      RMSEA_95: num(new RegExp(`95% ${f}\\)`)),
      SRMSR: num(new RegExp(`SRMSR ${f}`)),
      TLI: num(new RegExp(`TLI ${f}`)),
      CFI: num(new RegExp(`CFI ${f}`)),
      marginal_rxx: num(new RegExp(`marginal_rxx ${f}`)),
      empirical_rxx: num(new RegExp(`empirical_rxx \\(EAP, full.scores.SE\\) ${f}`)),
    },
  };
}
