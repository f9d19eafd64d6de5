// The period of a cron schedule: the longest gap between two consecutive firings, from which the
// "job has not succeeded within its period" alert derives its threshold. The expressions are parsed
// by the scheduler's own parser (src/jobs/cron.ts), so a schedule the manifests accept is one the
// in-process scheduler accepts too. Pure.
import { dayMatches, parseCron } from '../jobs/cron.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Firing times (epoch ms, UTC) in the `days` days from `start`'s day, oldest first. */
export function firings(expression: string, start: Date, days: number): number[] {
  const c = parseCron(expression);
  const hours = [...c.hours].sort((a, b) => a - b);
  const minutes = [...c.minutes].sort((a, b) => a - b);
  const day0 = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const out: number[] = [];
  for (let i = 0; i < days; i++) {
    const day = day0 + i * DAY_MS;
    if (!dayMatches(c, new Date(day))) continue;
    for (const h of hours) for (const m of minutes) out.push(day + (h * 60 + m) * MINUTE_MS);
  }
  return out;
}

/**
 * The longest interval between two consecutive firings, in seconds, over four years from a fixed
 * date (deterministic, and covering leap years and every weekday/month-day pairing). A job that
 * succeeds at every firing never has a last success older than this when its next run is due.
 */
export function cronPeriodSeconds(expression: string): number {
  const times = firings(expression, new Date(Date.UTC(2024, 0, 1)), 4 * 366);
  if (times.length < 2) throw new RangeError(`cron "${expression}" fires less than twice in four years`);
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
  return longest / 1000;
}
