// UTC calendar arithmetic on 'YYYY-MM-DD' strings, the form dates take everywhere in the project.
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The instant the UTC day starts (a bound to compare timestamptz columns with, in any session time zone). */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function parseDay(value: string, what: string): string {
  const d = dayStart(value);
  if (!DATE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new RangeError(`${what} must be a date YYYY-MM-DD, got "${value}"`);
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

/**
 * The days a run covers: --from..--to in order, else --date, else the job's default. Weekly jobs
 * step by ISO week and get each week's Monday (a date inside a week stands for that week).
 */
export function runDays(
  o: { date?: string; from?: string; to?: string },
  defaultDate: string,
  period: 'day' | 'week' = 'day',
): string[] {
  const align = period === 'week' ? isoWeekStart : (d: string) => d;
  if (o.from || o.to) {
    if (!o.from || !o.to) throw new RangeError('from and to go together');
    const from = align(parseDay(o.from, 'from'));
    const to = align(parseDay(o.to, 'to'));
    if (from > to) throw new RangeError(`from ${from} is after to ${to}`);
    const days: string[] = [];
    for (let d = from; d <= to; d = addDays(d, period === 'week' ? 7 : 1)) days.push(d);
    if (days.length > 3660) throw new RangeError('a backfill covers at most 3660 days or weeks');
    return days;
  }
  return [align(o.date ? parseDay(o.date, 'date') : defaultDate)];
}
