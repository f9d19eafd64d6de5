import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fireTimes, matches, nextFireTime, parseCron } from '../../../src/jobs/cron.js';
import { JOBS } from '../../../src/jobs/registry.js';

const at = (iso: string) => new Date(iso);

test('fields: numbers, lists, ranges, steps; 7 is Sunday', () => {
  const c = parseCron('*/15 9-17/4 * 1,6 7');
  assert.deepEqual([...c.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...c.hours], [9, 13, 17]);
  assert.deepEqual([...c.months], [1, 6]);
  assert.deepEqual([...c.daysOfWeek], [0]);
  // 2026-06-07 is a Sunday
  assert.equal(matches(c, at('2026-06-07T13:45:00Z')), true);
  assert.equal(matches(c, at('2026-06-08T13:45:00Z')), false);
});

test('day-of-month and day-of-week both restricted: either matches', () => {
  const c = parseCron('0 0 1 * 1');
  assert.equal(matches(c, at('2026-12-01T00:00:00Z')), true, 'the 1st, a Tuesday');
  assert.equal(matches(c, at('2026-11-30T00:00:00Z')), true, 'a Monday');
  assert.equal(matches(c, at('2026-12-02T00:00:00Z')), false);
});

test('fire times and the next fire time of the registry schedules, in UTC', () => {
  const weekly = parseCron('0 4 * * 1');
  assert.equal(nextFireTime(weekly, at('2026-11-29T10:00:00Z')).toISOString(), '2026-11-30T04:00:00.000Z');
  assert.equal(nextFireTime(weekly, at('2026-11-30T04:00:00Z')).toISOString(), '2026-12-07T04:00:00.000Z');
  const daily = parseCron('15 1 * * *');
  const day = fireTimes(daily, at('2026-11-29T00:00:00Z'), at('2026-12-01T00:00:00Z')).map((d) =>
    d.toISOString(),
  );
  assert.deepEqual(day, ['2026-11-29T01:15:00.000Z', '2026-11-30T01:15:00.000Z']);
  for (const j of JOBS) assert.doesNotThrow(() => parseCron(j.schedule), j.name);
});

test('bad expressions name the field and the value', () => {
  assert.throws(() => parseCron('0 4 * *'), /must have 5 fields/);
  assert.throws(() => parseCron('61 * * * *'), /minute "61" is out of range 0-59/);
  assert.throws(() => parseCron('0 4 * * mon'), /day of week "mon" is not a number/);
  assert.throws(() => nextFireTime(parseCron('0 0 31 2 *'), at('2026-01-01T00:00:00Z')), /never fires/);
});
