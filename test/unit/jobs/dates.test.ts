import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDays } from '../../../src/jobs/dates.js';

test('a range ending in the far future is refused at once, naming the limit', () => {
  // Before the fix this never returned: the day after 9999-12-31 is "+010000-01-01", which sorts
  // before it as text, so the loop went on until the process ran out of memory.
  assert.throws(
    () => runDays({ from: '2026-11-01', to: '9999-12-31' }, '2026-11-01'),
    /at most 3660 days.*2026-11-01\.\.9999-12-31 spans 2912139 days/,
  );
  assert.throws(
    () => runDays({ from: '2026-11-01', to: '9999-12-31' }, '2026-11-01', 'week'),
    /at most 3660 weeks/,
  );
});

test('a range up to 9999-12-31 within the limit ends on its last day', () => {
  const days = runDays({ from: '9999-12-01', to: '9999-12-31' }, '2026-11-01');
  assert.equal(days.length, 31);
  assert.equal(days.at(-1), '9999-12-31');
  // Weekly: the Mondays of the weeks of 9999-12-01 (a Wednesday) .. 9999-12-31 (a Friday).
  assert.deepEqual(runDays({ from: '9999-12-01', to: '9999-12-31' }, '2026-11-01', 'week'), [
    '9999-11-29',
    '9999-12-06',
    '9999-12-13',
    '9999-12-20',
    '9999-12-27',
  ]);
});

test('the limit itself: 3660 days are accepted, 3661 refused', () => {
  const days = runDays({ from: '2020-01-01', to: '2030-01-07' }, '2020-01-01');
  assert.equal(days.length, 3660);
  assert.equal(days[0], '2020-01-01');
  assert.equal(days.at(-1), '2030-01-07');
  assert.throws(() => runDays({ from: '2020-01-01', to: '2030-01-08' }, '2020-01-01'), /spans 3661 days/);
  assert.throws(() => runDays({ from: '2026-11-20', to: '2026-11-01' }, '2026-11-01'), /is after/);
});
