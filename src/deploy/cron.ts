// The period of a cron schedule: the longest gap between two consecutive firings, from which the
// "job has not succeeded within its period" alert derives its threshold. The firings come from the
// scheduler's own cron (src/jobs/cron.ts), so a schedule the manifests accept is one the in-process
// scheduler accepts too, with the same meaning. Pure.
import { fireTimes, parseCron } from '../jobs/cron.js';
import { InvalidInputError } from '../user-error.js';

/**
 * The longest interval between two consecutive firings, in seconds, over four years from a fixed
 * date (deterministic, and covering leap years and every weekday/month-day pairing). A job that
 * succeeds at every firing never has a last success older than this when its next run is due.
 */
export function cronPeriodSeconds(expression: string): number {
  const start = Date.UTC(2024, 0, 1);
  const times = fireTimes(parseCron(expression), new Date(start - 1), new Date(start + 4 * 366 * 86_400_000));
  if (times.length < 2)
    throw new InvalidInputError(`cron "${expression}" fires less than twice in four years`);
  let longest = 0;
  for (let i = 1; i < times.length; i++)
    longest = Math.max(longest, times[i]!.getTime() - times[i - 1]!.getTime());
  return longest / 1000;
}
