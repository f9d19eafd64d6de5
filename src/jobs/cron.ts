// Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC: the
// schedules of the job registry. Supports `*`, numbers, lists, ranges and steps; day-of-week 0 or 7
// is Sunday; when both day fields are restricted a day matches either (the classic cron rule).
import { InvalidInputError } from '../user-error.js';

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

export interface Cron {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

function parseField(text: string, field: (typeof FIELDS)[number], expression: string): Set<number> {
  const values = new Set<number>();
  const bad = (why: string) => new InvalidInputError(`cron "${expression}": ${field.name} "${text}" ${why}`);
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw bad('is not a number, range, list or step');
    const from = m[1] === '*' ? field.min : Number(m[2]);
    const to = m[1] === '*' ? field.max : m[3] !== undefined ? Number(m[3]) : m[4] ? field.max : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < field.min || to > field.max || from > to || step < 1) {
      throw bad(`is out of range ${field.min}-${field.max}`);
    }
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

export function parseCron(expression: string): Cron {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new InvalidInputError(
      `cron "${expression}" must have 5 fields (minute hour day-of-month month day-of-week)`,
    );
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((p, i) =>
    parseField(p, FIELDS[i]!, expression),
  );
  return {
    expression,
    minutes: minutes!,
    hours: hours!,
    daysOfMonth: daysOfMonth!,
    months: months!,
    daysOfWeek: daysOfWeek!,
    domRestricted: parts[2] !== '*',
    dowRestricted: parts[4] !== '*',
  };
}

/** Whether the UTC day of `t` is one the schedule fires on (month, day of month, day of week). */
export function dayMatches(cron: Cron, t: Date): boolean {
  if (!cron.months.has(t.getUTCMonth() + 1)) return false;
  const dom = cron.daysOfMonth.has(t.getUTCDate());
  const dow = cron.daysOfWeek.has(t.getUTCDay());
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

/** Whether the minute starting at `t` (UTC) is a fire time. */
export function matches(cron: Cron, t: Date): boolean {
  return cron.minutes.has(t.getUTCMinutes()) && cron.hours.has(t.getUTCHours()) && dayMatches(cron, t);
}

const MINUTE_MS = 60_000;

/** The fire times in (after, until], oldest first (minute resolution). */
export function fireTimes(cron: Cron, after: Date, until: Date): Date[] {
  const out: Date[] = [];
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (; t <= until.getTime(); t += MINUTE_MS) {
    const d = new Date(t);
    if (matches(cron, d)) out.push(d);
  }
  return out;
}

/** The first fire time after `after` (searching up to about four years ahead). */
export function nextFireTime(cron: Cron, after: Date): Date {
  const horizon = new Date(after.getTime() + 4 * 366 * 24 * 60 * MINUTE_MS);
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (; t <= horizon.getTime(); t += MINUTE_MS) {
    if (matches(cron, new Date(t))) return new Date(t);
  }
  throw new InvalidInputError(`cron "${cron.expression}" never fires`);
}
