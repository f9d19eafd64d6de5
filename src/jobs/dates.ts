// UTC calendar arithmetic on 'YYYY-MM-DD' strings, the form dates take everywhere in the project.
import { InvalidInputError } from '../user-error.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The instant the UTC day starts (a bound to compare timestamptz columns with, in any session time zone). */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function parseDay(value: string, what: string): string {
  const d = dayStart(value);
  if (!DATE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new InvalidInputError(`${what} must be a date YYYY-MM-DD, got "${value}"`);
  }
  return value;
}

export function addDays(day: string, n: number): string {
  const d = dayStart(day);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function utcToday(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The Monday of the ISO week containing `day`. */
export function isoWeekStart(day: string): string {
  const wd = dayStart(day).getUTCDay();
  return addDays(day, -((wd + 6) % 7));
}

/** The most days (or weeks, for weekly jobs) one run covers. */
const MAX_RUN_UNITS = 3660;
const DAY_MS = 86_400_000;

/** What the caller calls the three inputs in its errors (the API's fields, the CLI's options). */
export interface RunDayNames {
  date: string;
  from: string;
  to: string;
}

/**
 * The days a run covers: --from..--to in order, else --date, else the job's default. Weekly jobs
 * step by ISO week and get each week's Monday (a date inside a week stands for that week). The span
 * is measured before any day is listed, and as time, not text: past 9999-12-31 the text of a date
 * ("+010000-01-01") sorts before it. Errors name the inputs as `names` says.
 */
export function runDays(
  o: { date?: string; from?: string; to?: string },
  defaultDate: string,
  period: 'day' | 'week' = 'day',
  names: RunDayNames = { date: 'date', from: 'from', to: 'to' },
): string[] {
  const align = period === 'week' ? isoWeekStart : (d: string) => d;
  if (o.from || o.to) {
    if (!o.from || !o.to) throw new InvalidInputError(`${names.from} and ${names.to} go together`);
    const from = align(parseDay(o.from, names.from));
    const to = align(parseDay(o.to, names.to));
    const step = period === 'week' ? 7 : 1;
    const span = dayStart(to).getTime() - dayStart(from).getTime();
    if (span < 0) throw new InvalidInputError(`${names.from} ${from} is after ${names.to} ${to}`);
    const n = span / (step * DAY_MS) + 1;
    if (n > MAX_RUN_UNITS) {
      const unit = period === 'week' ? 'weeks' : 'days';
      throw new InvalidInputError(
        `a backfill covers at most ${MAX_RUN_UNITS} ${unit}; ${o.from}..${o.to} spans ${n} ${unit}`,
      );
    }
    return Array.from({ length: n }, (_, i) => addDays(from, i * step));
  }
  return [align(o.date ? parseDay(o.date, names.date) : defaultDate)];
}
