// Seeded fuzzing of the JSON routes: random values, mutations of valid bodies and malformed text.
// Every answer must be a 4xx or a 2xx in the one error shape, never a 5xx, and a rejected request
// must leave the database as it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../src/api/tokens.js';
import { replaceCohorts } from '../../../src/db/cohorts.js';
import { Rng } from '../../../src/irt/index.js';
import { insertRun } from './irt-fixtures.js';
import { AUDIENCE, bearer, createFixture, type Fixture, ISSUER, SECRET, seedItems, token } from './setup.js';

const SEED = 20261129;
const CASES = Number(process.env.FUZZ_CASES ?? 2500);
const INTERNAL = 'internal-token-for-the-fuzz-test';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Target {
  method: 'GET' | 'POST';
  /** The path (with a valid id or a random one) and query string. */
  url: (r: Gen) => string;
  headers: Record<string, string>;
  /** A valid body to mutate (POST). */
  valid?: () => Json;
}

class Gen {
  constructor(private readonly rng: Rng) {}
  int(n: number): number {
    return Math.floor(this.rng.next() * n);
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  string(): string {
    return this.pick([
      () => '',
      () => 'x'.repeat(this.pick([1, 127, 128, 129, 5000])),
      () => 'a\u0000b',
      () => '\n\t\u007f',
      () => '한국어 ✓ 🙂',
      () => '2026-02-30T25:61:00Z',
      () => '2026-01-01',
      () => '../../etc/passwd',
      () => "'; DROP TABLE attempt; --",
      () => String(this.number()),
      () => 'i1',
      () => 'alice',
      () => 'cal-1',
      () => '2PL',
    ])();
  }
  number(): number {
    return this.pick([
      0,
      -0,
      1,
      -1,
      0.5,
      30,
      365,
      366,
      -365,
      1e308,
      -1e308,
      5e-324,
      2 ** 53 + 1,
      1.5,
      127,
      100_001,
    ]);
  }
  value(depth = 0): Json {
    const kinds = depth > 3 ? 4 : 6;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
        return this.string();
      case 4:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const o: { [k: string]: Json } = {};
        for (let i = this.int(4); i > 0; i--) o[this.pick(FIELDS)] = this.value(depth + 1);
        return o;
      }
    }
  }
  /** A copy of `v` with one node replaced, removed or given an extra field. */
  mutate(v: Json): Json {
    if (v === null || typeof v !== 'object' || this.chance(0.15)) return this.value();
    const copy: Json = Array.isArray(v) ? [...v] : { ...v };
    const keys = Object.keys(copy);
    if (keys.length === 0 || this.chance(0.15)) {
      if (Array.isArray(copy)) copy.push(this.value());
      else copy[this.pick(FIELDS)] = this.value();
      return copy;
    }
    const k = this.pick(keys);
    if (this.chance(0.2)) {
      if (Array.isArray(copy)) copy.splice(Number(k), 1);
      else delete copy[k];
    } else {
      (copy as Record<string, Json>)[k] = this.mutate((copy as Record<string, Json>)[k]!);
    }
    return copy;
  }
}

const FIELDS = [
  'session_id',
  'user_id',
  'exam_id',
  'started_at',
  'attempts',
  'item_id',
  'correct',
  'response_time_ms',
  'hints',
  'answered_at',
  'client_attempt_id',
  'lookback_days',
  'model',
  'version',
  'item_params',
  'responses',
  'is_correct',
  'a',
  'b',
  'c',
  'quadpts',
  'theta_lim',
  'observations',
  'responded_at',
  'anchors',
  'params',
  'fixed',
  '__proto__',
  'constructor',
];

const MALFORMED = [
  '',
  '{',
  '{"user_id":',
  '[1,2',
  'null',
  'true',
  '"text"',
  '{"a":1}}',
  '\u0000\u0001',
  `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
  `{"user_id":"alice","user_id":"bob"}`,
  '{"__proto__":{"admin":true}}',
  'NaN',
  '{"lookback_days":Infinity}',
];

describe('fuzzing the JSON routes (seeded)', () => {
  let f: Fixture;
  let targets: Target[];

  before(async () => {
    f = await createFixture({ R_IRT_INTERNAL_TOKEN: INTERNAL });
    await seedItems(f.database);
    await insertRun(f.database, 'cal-1', '2026-01-01T00:00:00Z', {
      i1: { a: 1.2, b: -0.5, c: 0 },
      i2: { a: 0.8, b: 0.3, c: 0 },
    });
    const alice = bearer(await token('alice', 'exam:write reports:view'));
    const analyst = bearer(await token('analyst', 'analysis:run reports:view'));
    const internal = { authorization: `Bearer ${INTERNAL}` };
    const teacher = bearer(
      await mintToken({
        secret: SECRET,
        sub: 'teacher',
        scope: 'cohort:view',
        ttl: '1h',
        issuer: ISSUER,
        audience: AUDIENCE,
        cohorts: ['open', 'i1'],
      }),
    );
    await replaceCohorts(f.database.db, {
      cohorts: [{ cohort_id: 'open', name: 'Open class' }],
      members: [{ cohort_id: 'open', user_id: 'alice' }],
    });
    const created = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: alice,
      payload: { session_id: 'open' },
    });
    assert.equal(created.statusCode, 201);
    const anyId = (g: Gen) => encodeURIComponent(g.chance(0.5) ? g.pick(['open', 'i1', 'nope']) : g.string());
    const query = (g: Gen, names: string[]) =>
      Array.from({ length: g.int(4) }, () => `${g.pick(names)}=${encodeURIComponent(g.string())}`).join('&');
    targets = [
      {
        method: 'POST',
        url: () => '/api/seedtest/sessions',
        headers: alice,
        valid: () => ({ session_id: 'f1', exam_id: 'e1', started_at: '2026-11-01T10:00:00Z' }),
      },
      {
        method: 'POST',
        url: (g) => `/api/seedtest/sessions/${g.chance(0.8) ? 'open' : anyId(g)}/attempts`,
        headers: alice,
        valid: () => ({ attempts: [{ item_id: 'i1', correct: true, response_time_ms: 900, hints: 0 }] }),
      },
      {
        method: 'POST',
        url: (g) => `/api/seedtest/sessions/${anyId(g)}/complete`,
        headers: alice,
      },
      {
        method: 'POST',
        url: () => '/api/seedtest/analysis/irt/update-theta',
        headers: analyst,
        valid: () => ({ user_id: 'alice', lookback_days: 30, model: '2PL', version: 'cal-1' }),
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/analysis/irt/theta?${query(g, ['user_id', 'since', 'limit', 'x'])}`,
        headers: analyst,
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/items/${anyId(g)}/params?${query(g, ['limit', 'y'])}`,
        headers: analyst,
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/items/${anyId(g)}/history?${query(g, ['limit', 'y'])}`,
        headers: analyst,
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/calibrations/${anyId(g)}`,
        headers: analyst,
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/cohorts?${query(g, ['limit', 'offset', 'z'])}`,
        headers: teacher,
      },
      {
        method: 'GET',
        url: (g) =>
          `/api/seedtest/cohorts/${anyId(g)}/learners?${query(g, ['sort', 'order', 'filter', 'week', 'limit', 'offset'])}`,
        headers: teacher,
      },
      {
        method: 'GET',
        url: (g) => `/api/seedtest/learners/${g.chance(0.5) ? 'alice' : anyId(g)}/overview`,
        headers: teacher,
      },
      {
        method: 'GET',
        url: (g) =>
          `/api/seedtest/learners/${g.chance(0.5) ? 'alice' : anyId(g)}/charts?${query(g, ['locale'])}`,
        headers: analyst,
      },
      {
        method: 'POST',
        url: () => '/irt/score',
        headers: internal,
        valid: () => ({
          item_params: [{ a: 1, b: 0 }],
          responses: [[1, null]],
          quadpts: 21,
          theta_lim: [-4, 4],
        }),
      },
      {
        method: 'POST',
        url: () => '/irt/score',
        headers: internal,
        valid: () => ({
          item_params: { I1: { a: 1, b: 0, c: 0.1 } },
          responses: [{ item_id: 'I1', is_correct: 1 }],
        }),
      },
      {
        method: 'POST',
        url: () => '/irt/calibrate',
        headers: internal,
        valid: (): Json => ({
          observations: [
            { user_id: 'u1', item_id: 'i1', is_correct: 1, responded_at: '2026-01-01T00:00:00Z' },
            { user_id: 'u2', item_id: 'i1', is_correct: false },
          ],
          model: '2PL',
          anchors: [{ item_id: 'i1', params: { a: 1, b: 0 }, fixed: true }],
        }),
      },
    ];
  });
  after(() => f.close());

  const state = async () =>
    JSON.stringify(
      (
        await f.database.query(
          `SELECT (SELECT count(*) FROM learner) AS learners, (SELECT count(*) FROM exam_session) AS sessions,
             (SELECT count(*) FROM exam_session WHERE status = 'completed') AS completed,
             (SELECT count(*) FROM attempt) AS attempts, (SELECT count(*) FROM mirt_ability) AS abilities`,
        )
      ).rows[0],
    );

  it(`${CASES} seeded cases: never a 5xx, the error shape on every 4xx, nothing written on rejection`, async () => {
    const g = new Gen(new Rng(SEED));
    const statuses = new Map<number, number>();
    // The database changes only when a request is accepted: one read per case.
    let known = await state();
    for (let n = 0; n < CASES; n++) {
      const target = g.pick(targets);
      const mode = target.method === 'GET' ? 'none' : g.pick(['random', 'mutate', 'mutate', 'malformed']);
      let payload: string | undefined;
      if (mode === 'random') payload = JSON.stringify(g.value());
      else if (mode === 'mutate') payload = JSON.stringify(g.mutate(target.valid?.() ?? {}));
      else if (mode === 'malformed') payload = g.pick(MALFORMED);
      const url = target.url(g);
      const res = await f.app.inject({
        method: target.method,
        url,
        headers: {
          ...target.headers,
          ...(payload !== undefined
            ? { 'content-type': g.chance(0.05) ? 'text/plain' : 'application/json' }
            : {}),
        },
        ...(payload !== undefined ? { payload } : {}),
      });
      const what = `case ${n}: ${target.method} ${url} ${payload?.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, what);
      if (res.statusCode >= 400) {
        const body = res.json();
        assert.equal(typeof body.error?.code, 'string', what);
        assert.equal(typeof body.error?.message, 'string', what);
        assert.equal(await state(), known, `written on rejection: ${what}`);
      } else {
        known = await state();
      }
    }
    // The generator reaches both sides: some requests pass, most are refused.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((sum, [, k]) => sum + k, 0);
    assert.ok(ok > CASES / 50 && ok < CASES / 2, JSON.stringify([...statuses]));
  });
});
