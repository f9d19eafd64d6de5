// PUT /cohorts/{id} (admin) on a real database: create, rename, replace the roster (new learners
// created), empty it, and refuse non-admins and bad bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createFixture, type Fixture, token } from '../api/setup.js';

describe('PUT /cohorts/{cohort_id}', () => {
  let f: Fixture;
  let admin: string;
  before(async () => {
    f = await createFixture();
    admin = await token('root', 'admin');
  });
  after(() => f.close());

  const put = (id: string, body: unknown, t = admin) =>
    f.app.inject({
      method: 'PUT',
      url: `/api/seedtest/cohorts/${encodeURIComponent(id)}`,
      headers: bearer(t),
      payload: body as object,
    });
  const members = async (id: string) =>
    (
      await f.database.db
        .selectFrom('cohort_member')
        .select('user_id')
        .where('cohort_id', '=', id)
        .orderBy('user_id')
        .execute()
    ).map((m) => m.user_id);

  it('creates a cohort with its roster, renames it, replaces and empties the roster', async () => {
    const created = await put('3-a', { name: ' Class 3-A ', members: ['u1', 'u2'] });
    assert.equal(created.statusCode, 200, created.body);
    assert.deepEqual(created.json(), {
      cohort_id: '3-a',
      name: 'Class 3-A',
      created: true,
      members: 2,
      learners_created: 2,
    });
    assert.deepEqual(await members('3-a'), ['u1', 'u2']);

    const renamed = await put('3-a', { name: 'Class 3-A (2027)' });
    assert.deepEqual(renamed.json(), {
      cohort_id: '3-a',
      name: 'Class 3-A (2027)',
      created: false,
      members: 2,
      learners_created: 0,
    });
    assert.deepEqual(await members('3-a'), ['u1', 'u2'], 'no members: the roster is kept');

    const replaced = await put('3-a', { name: 'Class 3-A (2027)', members: ['u2', 'u3'] });
    assert.equal(replaced.json().learners_created, 1);
    assert.deepEqual(await members('3-a'), ['u2', 'u3']);
    const cohort = await f.database.db
      .selectFrom('cohort')
      .selectAll()
      .where('cohort_id', '=', '3-a')
      .executeTakeFirstOrThrow();
    assert.equal(cohort.name, 'Class 3-A (2027)');

    assert.equal((await put('3-a', { name: 'Class 3-A', members: [] })).json().members, 0);
    assert.deepEqual(await members('3-a'), []);
  });

  it('is for admins; a bad body is a 400 naming the field, and nothing is written', async () => {
    assert.equal((await put('x', { name: 'X' }, await token('t', 'cohort:view'))).statusCode, 403);
    assert.equal((await put('x', { name: 'X' }, await token('a', 'analysis:run'))).statusCode, 403);
    for (const body of [
      { name: '' },
      { name: '   ' },
      { members: ['u1'] },
      { name: 'X', members: ['u1', 'u1'] },
      { name: 'X', extra: 1 },
      { name: 'X', members: ['bad\u0001id'] },
    ]) {
      const res = await put('x', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'INVALID_INPUT');
    }
    assert.equal(
      await f.database.db
        .selectFrom('cohort')
        .select('cohort_id')
        .where('cohort_id', '=', 'x')
        .executeTakeFirst(),
      undefined,
    );
  });
});
