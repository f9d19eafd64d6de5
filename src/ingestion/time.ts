// The one rule for time inputs, API and import alike. An instant must name its zone (a timestamp
// read in the host's zone means different things on different machines) and lie between the
// configured earliest date and now + 1 day (the allowance for clients' clock skew); a date must
// exist in the calendar and lie in the same range. Anything outside can only be a mistake, and an
// answer dated in the future would stay "the latest" for good. Pure: callers add the field's name.

/** How far ahead of the server's clock a client's instant may be. */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

export interface TimeBounds {
  /** The earliest date an input may name, 'YYYY-MM-DD' (EARLIEST_INPUT_DATE). */
  earliest: string;
  now: Date;
}

/** A time input that breaks the rule; the message completes "<field> …". */
export class TimeInputError extends Error {
  override name = 'TimeInputError';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** The UTC instant of a calendar date and time, or undefined when a part is out of its range. */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | undefined {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter maps years 0..99 to 1900..1999.
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getUTCDate() === d ? t : undefined;
}

/** Throws unless `t` lies between the earliest date and now + the clock-skew allowance. */
export function checkTimeBounds(t: Date, bounds: TimeBounds): Date {
  if (Number.isNaN(t.getTime())) throw new TimeInputError('is not a valid time');
  if (t < new Date(`${bounds.earliest}T00:00:00Z`)) throw new TimeInputError(`is before ${bounds.earliest}`);
  if (t.getTime() > bounds.now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new TimeInputError('is more than a day in the future');
  }
  return t;
}

/** An ISO 8601 date-time with a zone (`T` or a space between date and time), within the bounds. */
export function parseInstant(value: string, bounds: TimeBounds): Date {
  const m = INSTANT.exec(value);
  if (!m) throw new TimeInputError('must be an ISO 8601 date-time with a zone, e.g. 2026-11-28T09:30:00Z');
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  if (!z && !sign) throw new TimeInputError('has no time zone: add Z or an offset such as +09:00');
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const local = utc(+y!, +mo!, +d!, +h!, +mi!, +(s ?? 0), ms);
  if (!local || +(oh ?? 0) > 23 || +(om ?? 0) > 59) throw new TimeInputError('is not a valid date-time');
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (+oh! * 60 + +om!) * 60_000 : 0;
  return checkTimeBounds(new Date(local.getTime() - offsetMs), bounds);
}

/** A calendar date 'YYYY-MM-DD' whose start lies within the bounds; returned as given. */
export function parseDate(value: string, bounds: TimeBounds): string {
  const m = DATE.exec(value);
  const start = m ? utc(+m[1]!, +m[2]!, +m[3]!) : undefined;
  if (!start) throw new TimeInputError('must be a date YYYY-MM-DD that exists in the calendar');
  checkTimeBounds(start, bounds);
  return value;
}

/** A date, or an instant with a zone: the start of the date (UTC) or the instant. */
export function parseDateOrInstant(value: string, bounds: TimeBounds): Date {
  return DATE.test(value) ? new Date(`${parseDate(value, bounds)}T00:00:00Z`) : parseInstant(value, bounds);
}
