// UTC calendar arithmetic on 'YYYY-MM-DD' strings, the form dates take everywhere in the project.
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseDay(value: string, what: string): string {
  const d = new Date(`${value}T00:00:00Z`);
  if (!DATE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new RangeError(`${what} must be a date YYYY-MM-DD, got "${value}"`);
  }
  return value;
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function utcToday(now: Date): string {
  return now.toISOString().slice(0, 10);
}
