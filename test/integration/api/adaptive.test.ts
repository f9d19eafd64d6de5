import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/api/server.js';
import { type Database, openServer } from '../../../src/db/connection.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { insertRun } from './irt-fixtures.js';
import { bearer, createFixture, type Fixture, testConfig, token } from './setup.js';

const N_ITEMS = 40;
const RUN = 'cal-1';

/** Two topics, 40 items with 2PL parameters; c1 (drift), c2 (excluded by the run), c3 (inactive) are the most informative at 0. */
async function seedBank(f: Fixture): Promise<void> {
  const db = f.database.db;
  await db
    .insertInto('topic')
    .values([
      { topic_id: 'algebra', name: 'Algebra' },
      { topic_id: 'geometry', name: 'Geometry' },
    ])
    .execute();
  const ids = Array.from({ length: N_ITEMS }, (_, i) => `c${i + 1}`);
  await db
    .insertInto('item')
    .values(ids.map((item_id, i) => ({ item_id, topic_id: i % 2 === 0 ? 'algebra' : 'geometry' })))
    .execute();
  await insertRun(
    f.database,
    RUN,
    '2026-01-01T00:00:00Z',
    Object.fromEntries(
      ids.map((id, i) => [
        id,
        i < 3 ? { a: 2.8, b: 0, c: 0 } : { a: 0.6 + (i % 7) * 0.2, b: -2 + (i % 9) * 0.5, c: 0 },
      ]),
    ),
  );
  await db
    .insertInto('mirt_item_fit')
    .values({ run_id: RUN, item_id: 'c1', infit: 1, outfit: 1, infit_z: 0, outfit_z: 0, drift_flag: true })
    .execute();
  await db
    .updateTable('mirt_fit_meta')
    .set({
      model_spec: JSON.stringify({
        quadpts: 61,
        theta_lim: [-6, 6],
        excluded_items: [{ itemId: 'c2', reason: 'all-correct', n: 30 }],
      }),
    })
    .where('run_id', '=', RUN)
    .execute();
  await db.updateTable('item').set({ active: false }).where('item_id', '=', 'c3').execute();
}

const SETTINGS = { max_items: 6, min_items: 2, topics: { algebra: 1, geometry: 1 } };

/** A simulee who knows items with b below 0.5. */
const answer = (itemId: string) => Number(itemId.slice(1)) % 9 < 5;

interface Step {
  item_id?: string;
  topic_id?: string;
  position?: number;
  theta: number;
  se: number;
  done?: true;
  reason?: string;
  n_items?: number;
}

describe('adaptive sessions', () => {
  let f: Fixture;
  let alice: Record<string, string>;
  let bob: Record<string, string>;

  before(async () => {
    f = await createFixture();
    await seedBank(f);
    alice = bearer(await token('alice', 'exam:write'));
    bob = bearer(await token('bob', 'exam:write'));
  });
  after(() => f.close());

  const create = (app: FastifyInstance, headers: Record<string, string>, payload: object) =>
    app.inject({ method: 'POST', url: '/api/seedtest/sessions', headers, payload });
  const nextItem = (app: FastifyInstance, id: string, headers = alice) =>
    app.inject({ method: 'GET', url: `/api/seedtest/sessions/${id}/next-item`, headers });
  const attempt = (app: FastifyInstance, id: string, itemId: string, headers = alice) =>
    app.inject({
      method: 'POST',
      url: `/api/seedtest/sessions/${id}/attempts`,
      headers,
      payload: { attempts: [{ item_id: itemId, correct: answer(itemId) }] },
    });

  /** Runs a session to its end on `apps` (step k on apps[k % apps.length]); returns the steps. */
  async function run(
    apps: FastifyInstance[],
    id: string,
    settings: object = SETTINGS,
    headers = alice,
  ): Promise<Step[]> {
    const created = await create(apps[0]!, headers, { session_id: id, mode: 'adaptive', settings });
    assert.equal(created.statusCode, 201, created.body);
    const steps: Step[] = [];
    for (let k = 0; k < 50; k++) {
      const res = await nextItem(apps[k % apps.length]!, id, headers);
      assert.equal(res.statusCode, 200, res.body);
      const step = res.json() as Step;
      steps.push(step);
      if (step.done) return steps;
      const posted = await attempt(apps[(k + 1) % apps.length]!, id, step.item_id!, headers);
      assert.equal(posted.statusCode, 201, posted.body);
    }
    throw new Error('the session did not end');
  }

  it('runs a session end to end: next item, answer, … done with the reason; completion queues θ', async () => {
    const created = await create(f.app, alice, { session_id: 'e2e', mode: 'adaptive', settings: SETTINGS });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().mode, 'adaptive');
    assert.deepEqual(created.json().settings, {
      max_items: 6,
      min_items: 2,
      se_target: null,
      topics: { algebra: 1, geometry: 1 },
      exposure: 'none',
      kl_items: 0,
      exclude_days: 30,
    });
    const served: Step[] = [];
    for (;;) {
      const res = await nextItem(f.app, 'e2e');
      assert.equal(res.statusCode, 200, res.body);
      const step = res.json() as Step;
      if (step.done) {
        assert.deepEqual({ reason: step.reason, n_items: step.n_items }, { reason: 'max_items', n_items: 6 });
        assert.ok(step.se > 0 && step.se < 1);
        break;
      }
      assert.equal(step.position, served.length + 1);
      // Asking again before answering returns the same item (the served record is the state).
      assert.deepEqual((await nextItem(f.app, 'e2e')).json(), step);
      served.push(step);
      assert.equal((await attempt(f.app, 'e2e', step.item_id!)).statusCode, 201);
    }
    const ids = served.map((s) => s.item_id!);
    assert.equal(new Set(ids).size, 6);
    // Drift-flagged, calibration-excluded and inactive items are never served.
    for (const id of ['c1', 'c2', 'c3']) assert.ok(!ids.includes(id), `${id} served`);
    // Equal topic shares: within one item at every position.
    let algebra = 0;
    served.forEach((s, i) => {
      if (s.topic_id === 'algebra') algebra++;
      assert.ok(Math.abs(algebra - (i + 1) / 2) <= 1);
    });
    assert.ok(Math.abs(served[0]!.theta) < 1e-9, 'the prior mean');
    // θ moves with the answers.
    assert.notEqual(served[5]!.theta, served[0]!.theta);

    const done = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/e2e/complete',
      headers: alice,
    });
    assert.equal(done.json().theta_update, 'queued');
    assert.deepEqual(f.completed.at(-1), ['alice', 'e2e']);
    const closed = await nextItem(f.app, 'e2e');
    assert.equal(closed.statusCode, 409);
    assert.equal(closed.json().error.code, 'SESSION_CLOSED');

    // The exposure record and the metrics.
    const analyst = bearer(await token('analyst', 'analysis:run'));
    const exposure = await f.app.inject({
      method: 'GET',
      url: `/api/seedtest/cat/exposure/${RUN}`,
      headers: analyst,
    });
    assert.equal(exposure.statusCode, 200, exposure.body);
    assert.equal(exposure.json().sessions, 1);
    assert.deepEqual(
      exposure
        .json()
        .items.map((r: { item_id: string }) => r.item_id)
        .sort(),
      [...ids].sort(),
    );
    assert.ok(exposure.json().items.every((r: { rate: number }) => r.rate === 1));
    const over = await f.app.inject({
      method: 'GET',
      url: '/api/seedtest/cat/overexposed',
      headers: analyst,
    });
    assert.equal(over.statusCode, 200, over.body);
    assert.equal(over.json().max_rate, 0.25);
    assert.ok(over.json().items.length >= 6);
    const scrape = await f.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(scrape.body, /seedtest_cat_next_item_seconds_count\{result="served"\} 6/);
    assert.match(scrape.body, /seedtest_cat_next_item_seconds_count\{result="repeated"\} 6/);
    assert.match(scrape.body, /seedtest_cat_items_served_total\{topic="algebra"\} 3/);
    assert.match(scrape.body, /seedtest_cat_overexposed_items [1-9]/);
  });

  it('stops on the SE target once min_items are given', async () => {
    const steps = await run([f.app], 'se-stop', { max_items: 30, min_items: 3, se_target: 0.8 });
    const end = steps.at(-1)!;
    assert.equal(end.reason, 'se_target');
    assert.ok(end.se <= 0.8 && end.n_items! >= 3 && end.n_items! < 30);
  });

  it('refuses an answer to an item the engine did not serve (409 ITEM_NOT_SERVED), writing nothing', async () => {
    assert.equal(
      (await create(f.app, alice, { session_id: 'unserved', mode: 'adaptive', settings: SETTINGS }))
        .statusCode,
      201,
    );
    const before = await attempt(f.app, 'unserved', 'c10');
    assert.equal(before.statusCode, 409, before.body);
    assert.equal(before.json().error.code, 'ITEM_NOT_SERVED');
    assert.deepEqual(before.json().error.details, { item_ids: ['c10'] });
    const step = (await nextItem(f.app, 'unserved')).json() as Step;
    const other = step.item_id === 'c11' ? 'c12' : 'c11';
    const mixed = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/unserved/attempts',
      headers: alice,
      payload: {
        attempts: [
          { item_id: step.item_id, correct: true },
          { item_id: other, correct: true },
        ],
      },
    });
    assert.equal(mixed.statusCode, 409);
    assert.deepEqual(mixed.json().error.details, { item_ids: [other] });
    const rows = await f.database.db
      .selectFrom('attempt')
      .select('item_id')
      .where('session_id', '=', 'unserved')
      .execute();
    assert.equal(rows.length, 0);
    assert.equal((await attempt(f.app, 'unserved', step.item_id!)).statusCode, 201);
  });

  it('replays: the same session id on a fresh database gives the same sequence (randomesque)', async () => {
    // A learner of their own: the items a learner answered elsewhere are part of the state.
    const dave = bearer(await token('dave', 'exam:write'));
    const settings = { ...SETTINGS, exposure: 'randomesque:4' };
    const first = await run([f.app], 'replay-1', settings, dave);
    const g = await createFixture();
    try {
      await seedBank(g);
      const again = await run([g.app], 'replay-1', settings, dave);
      assert.deepEqual(again, first);
    } finally {
      await g.close();
    }
    // The draws depend on the session id: other ids give other sequences (one of them at least).
    const others = await Promise.all(
      ['replay-2', 'replay-3', 'replay-4'].map((id) => run([f.app], id, settings)),
    );
    const key = (steps: Step[]) => steps.map((s) => s.item_id).join(',');
    assert.ok(others.some((s) => key(s) !== key(first)));
  });

  it('two server instances on one database give the same next item for the same session', async () => {
    // A second replica: its own server, caches and (on PostgreSQL) its own connection pool.
    const database: Database = f.database.url ? openServer(f.database.url, 4) : f.database;
    const replica = buildServer({
      config: testConfig(),
      database,
      logger: createLogger('silent', false),
      metrics: createMetrics(),
    });
    await replica.ready();
    try {
      // Without exposure control the sequence does not depend on the session id: a session served by
      // one replica and one whose steps alternate between the two (each reading what the other
      // served) give the same steps, for two learners with no history.
      const alone = await run([f.app], 'alone', SETTINGS, bearer(await token('r-alone', 'exam:write')));
      const mixed = await run(
        [f.app, replica],
        'mixed',
        SETTINGS,
        bearer(await token('r-mixed', 'exam:write')),
      );
      assert.equal(mixed.at(-1)!.reason, 'max_items');
      assert.deepEqual(mixed, alone);
      assert.equal(
        (await create(f.app, alice, { session_id: 'both', mode: 'adaptive', settings: SETTINGS })).statusCode,
        201,
      );
      for (let k = 0; k < 4; k++) {
        const [a, b] = await Promise.all([nextItem(f.app, 'both'), nextItem(replica, 'both')]);
        assert.deepEqual(a.json(), b.json());
        assert.equal((await attempt(replica, 'both', a.json().item_id)).statusCode, 201);
      }
      const served = await f.database.db
        .selectFrom('cat_served_item')
        .select('position')
        .where('session_id', '=', 'both')
        .execute();
      assert.equal(served.length, 4);
    } finally {
      await replica.close();
      if (database !== f.database) await database.close();
    }
  });

  it('a learner sees only their own sessions; other errors are documented codes', async () => {
    assert.equal(
      (await create(f.app, alice, { session_id: 'mine', mode: 'adaptive', settings: SETTINGS })).statusCode,
      201,
    );
    const theirs = await nextItem(f.app, 'mine', bob);
    assert.equal(theirs.statusCode, 403);
    assert.equal(theirs.json().error.code, 'NOT_YOUR_DATA');
    const reader = await nextItem(f.app, 'mine', bearer(await token('alice', 'exam:read')));
    assert.equal(reader.statusCode, 403);
    const none = await f.database.db
      .selectFrom('cat_served_item')
      .select('item_id')
      .where('session_id', '=', 'mine')
      .execute();
    assert.equal(none.length, 0);
    assert.equal((await nextItem(f.app, 'missing')).json().error.code, 'SESSION_NOT_FOUND');
    assert.equal((await create(f.app, alice, { session_id: 'fixed' })).statusCode, 201);
    const fixed = await nextItem(f.app, 'fixed');
    assert.equal(fixed.statusCode, 409);
    assert.equal(fixed.json().error.code, 'NOT_ADAPTIVE');
  });

  it('does not serve items the learner answered in other sessions within exclude_days', async () => {
    const carol = bearer(await token('carol', 'exam:write'));
    const earlier = (await run([f.app], 'carol-1', { max_items: 3 }, carol)).filter((s) => !s.done);
    const answered = earlier.map((s) => s.item_id!);
    const start = async (id: string, settings: object) => {
      assert.equal(
        (await create(f.app, carol, { session_id: id, mode: 'adaptive', settings })).statusCode,
        201,
      );
      return (await nextItem(f.app, id, carol)).json() as Step;
    };
    const again = await start('carol-2', { max_items: 3 });
    assert.ok(!answered.includes(again.item_id!), `${again.item_id} was answered by carol a moment ago`);
    // Without the exclusion the same design starts where the earlier session did.
    assert.equal((await start('carol-3', { max_items: 3, exclude_days: 0 })).item_id, answered[0]);
  });

  it('refuses bad settings with 400 naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{ mode: 'adaptive' }, 'settings'],
      [{ settings: { max_items: 5 } }, 'settings'],
      [{ mode: 'adaptive', settings: {} }, 'settings.max_items'],
      [{ mode: 'adaptive', settings: { max_items: 0 } }, 'settings.max_items'],
      [{ mode: 'adaptive', settings: { max_items: 5, min_items: 6 } }, 'settings.min_items'],
      [{ mode: 'adaptive', settings: { max_items: 5, se_target: 0 } }, 'settings.se_target'],
      [
        { mode: 'adaptive', settings: { max_items: 5, exposure: 'sympson-hetter:0.25' } },
        'settings.exposure',
      ],
      [{ mode: 'adaptive', settings: { max_items: 5, topics: { algebra: -1 } } }, 'settings.topics.algebra'],
      [{ mode: 'adaptive', settings: { max_items: 5, topics: { algebra: 0 } } }, 'settings.topics'],
      [{ mode: 'adaptive', settings: { max_items: 5, extra: 1 } }, 'settings.extra'],
      [{ mode: 'sometimes', settings: { max_items: 5 } }, 'mode'],
    ];
    for (const [body, field] of cases) {
      const res = await create(f.app, alice, { session_id: 'bad', ...body });
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error.code, 'INVALID_INPUT');
      assert.equal(res.json().error.details.fields[0].field, field, JSON.stringify(body));
    }
  });

  it('serves with the Sympson–Hetter parameters imported for the run, from the next request on', async () => {
    const admin = bearer(await token('ops', 'analysis:run'));
    const put = (runId: string, payload: object) =>
      f.app.inject({
        method: 'PUT',
        url: `/api/seedtest/cat/sympson-hetter/${runId}`,
        headers: admin,
        payload,
      });
    const firstItem = async (id: string, user: string, exposure: string) => {
      const headers = bearer(await token(user, 'exam:write'));
      const created = await create(f.app, headers, {
        session_id: id,
        mode: 'adaptive',
        settings: { max_items: 3, exposure },
      });
      assert.equal(created.statusCode, 201, created.body);
      return nextItem(f.app, id, headers);
    };
    const plain = ((await firstItem('sh-plain', 'sh-u0', 'none')).json() as Step).item_id!;

    const before = await firstItem('sh-0', 'sh-u1', 'sympson-hetter');
    assert.equal(before.statusCode, 409, before.body);
    assert.equal(before.json().error.code, 'NO_EXPOSURE_PARAMS');

    assert.equal((await put('no-such-run', { items: [{ item_id: 'c4', sh_k: 0.5 }] })).statusCode, 404);
    const unknown = await put(RUN, { items: [{ item_id: 'zz', sh_k: 0.5 }] });
    assert.equal(unknown.statusCode, 422, unknown.body);
    assert.deepEqual(unknown.json().error.details.item_ids, ['zz']);
    for (const items of [
      [{ item_id: 'c4', sh_k: 1.5 }],
      [
        { item_id: 'c4', sh_k: 1 },
        { item_id: 'c4', sh_k: 0 },
      ],
    ])
      assert.equal((await put(RUN, { items })).statusCode, 400, JSON.stringify(items));
    assert.equal(
      (await f.database.db.selectFrom('cat_sh_param').select('item_id').execute()).length,
      0,
      'refused imports write nothing',
    );

    // The maximum-information item refused at every lottery: never served; the rest of the bank is
    // uncapped (not named), so the first item is the next best, as with that item excluded.
    const ok = await put(RUN, { items: [{ item_id: plain, sh_k: 0 }] });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { run_id: RUN, items: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await firstItem(`sh-1-${i}`, `sh-u2-${i}`, 'sympson-hetter');
      assert.equal(res.statusCode, 200, res.body);
      assert.notEqual((res.json() as Step).item_id, plain);
    }
    // A new import replaces the set and is used from the next request on (the bank's stamp).
    assert.equal((await put(RUN, { items: [{ item_id: plain, sh_k: 1 }] })).statusCode, 200);
    assert.equal(((await firstItem('sh-2', 'sh-u3', 'sympson-hetter')).json() as Step).item_id, plain);
  });

  // Last: it changes the bank for the file's fixture.
  it('uses a deactivated item or a new calibration from the next request on (bank cached per stamp)', async () => {
    const firstItem = async (id: string, user: string) => {
      const headers = bearer(await token(user, 'exam:write'));
      assert.equal(
        (await create(f.app, headers, { session_id: id, mode: 'adaptive', settings: { max_items: 3 } }))
          .statusCode,
        201,
      );
      return ((await nextItem(f.app, id, headers)).json() as Step).item_id!;
    };
    const before = await firstItem('stamp-1', 'erin');
    assert.equal(await firstItem('stamp-1b', 'erin-2'), before);
    await f.database.db.updateTable('item').set({ active: false }).where('item_id', '=', before).execute();
    assert.notEqual(await firstItem('stamp-2', 'frank'), before);
    await insertRun(f.database, 'cal-2', '2026-02-01T00:00:00Z', { c20: { a: 3, b: 0, c: 0 } });
    assert.equal(await firstItem('stamp-3', 'gina'), 'c20');
  });
});
