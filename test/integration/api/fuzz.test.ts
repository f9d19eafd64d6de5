// Seeded fuzzing of every route group: random values, mutations of valid bodies, malformed text,
// random path and query parameters. Every answer must be a 2xx or a 4xx in the one error shape,
// never a 5xx, and a rejected request must leave every table as it was (checksums of all rows).
// FUZZ_CASES cases per route group (default 2000).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../src/api/tokens.js';
import { replaceCohorts } from '../../../src/cohorts/repository.js';
import { Rng } from '../../../src/irt/index.js';
import { tableChecksums, writeMark } from '../../helpers/checksums.js';
import { insertRun } from './irt-fixtures.js';
import { AUDIENCE, bearer, createFixture, type Fixture, ISSUER, SECRET, seedItems, token } from './setup.js';

const SEED = 20261129;
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const GROUPS = ['sessions', 'analysis', 'items', 'reports', 'jobs', 'irt-compat'] as const;
const INTERNAL = 'internal-token-for-the-fuzz-test';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Target {
  group: (typeof GROUPS)[number];
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
      () => '2026-11-30',
      () => '2024-02-30',
      () => '0000-01-01',
      () => '0001-01-01',
      () => '0000-01-01T00:00:00Z',
      () => '9999-12-31T23:59:59Z',
      () => '2026-11-30 23:30:00',
      () => '2026-11-30T10:00:00+09:00',
      () => new Date().toISOString(),
      () => '1/2',
      () => 'aggregate-features-daily',
      () => 'compute-daily-kpis',
      () => 'open',
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
  'week_start',
  'date',
  'from',
  'to',
  'dry_run',
  'shard',
  'users',
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
    const reader = bearer(await token('alice', 'exam:read'));
    const admin = bearer(await token('root', 'admin'));
    const internal = { authorization: `Bearer ${INTERNAL}` };
    // A report whose file is missing: its download is a 404, not a 500.
    await f.database.db
      .insertInto('report_artifacts')
      .values({
        user_id: 'alice',
        week_start: '2026-11-23',
        format: 'html',
        url: 'missing',
        storage_key: 'missing.html',
      })
      .execute();
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
    const answered = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/open/attempts',
      headers: alice,
      payload: { attempts: [{ item_id: 'i1', correct: true }] },
    });
    assert.equal(answered.statusCode, 201);
    const adaptive = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: alice,
      payload: { session_id: 'cat', mode: 'adaptive', settings: { max_items: 5 } },
    });
    assert.equal(adaptive.statusCode, 201);
    const anyId = (g: Gen) =>
      encodeURIComponent(g.chance(0.5) ? g.pick(['open', 'cat', 'i1', 'cal-1', 'nope']) : g.string());
    const query = (g: Gen, names: string[]) =>
      Array.from({ length: g.int(4) }, () => `${g.pick(names)}=${encodeURIComponent(g.string())}`).join('&');
    targets = [
      {
        group: 'sessions',
        method: 'POST',
        url: () => '/api/seedtest/sessions',
        headers: alice,
        valid: () => ({ session_id: 'f1', exam_id: 'e1', started_at: '2026-11-01T10:00:00Z' }),
      },
      {
        group: 'sessions',
        method: 'POST',
        url: (g) => `/api/seedtest/sessions/${g.chance(0.8) ? 'open' : anyId(g)}/attempts`,
        headers: alice,
        valid: (): Json => ({
          attempts: [
            { client_attempt_id: 'c1', item_id: 'i1', correct: true, response_time_ms: 900, hints: 0 },
            { item_id: 'i2', correct: false, answered_at: '2026-11-30T10:00:00+09:00' },
          ],
        }),
      },
      {
        group: 'sessions',
        method: 'POST',
        url: () => '/api/seedtest/sessions',
        headers: alice,
        valid: () => ({
          session_id: 'f2',
          mode: 'adaptive',
          settings: {
            max_items: 20,
            min_items: 5,
            se_target: 0.3,
            topics: { algebra: 0.6, geometry: 0.4 },
            exposure: 'randomesque:5',
            kl_items: 2,
            exclude_days: 30,
          },
        }),
      },
      {
        group: 'sessions',
        method: 'GET',
        url: (g) => `/api/seedtest/sessions/${g.chance(0.6) ? 'cat' : anyId(g)}/next-item`,
        headers: alice,
      },
      {
        group: 'sessions',
        method: 'POST',
        url: () => '/api/seedtest/sessions/cat/attempts',
        headers: alice,
        valid: () => ({ attempts: [{ item_id: 'i1', correct: true }] }),
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/cat/exposure/${anyId(g)}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: () => '/api/seedtest/cat/overexposed',
        headers: analyst,
      },
      {
        group: 'sessions',
        method: 'POST',
        url: (g) => `/api/seedtest/sessions/${anyId(g)}/complete`,
        headers: alice,
      },
      {
        group: 'analysis',
        method: 'POST',
        url: () => '/api/seedtest/analysis/irt/update-theta',
        headers: analyst,
        valid: () => ({ user_id: 'alice', lookback_days: 30, model: '2PL', version: 'cal-1' }),
      },
      {
        group: 'analysis',
        method: 'GET',
        url: (g) => `/api/seedtest/analysis/irt/theta?${query(g, ['user_id', 'since', 'limit', 'x'])}`,
        headers: analyst,
      },
      {
        group: 'analysis',
        method: 'GET',
        url: (g) => `/api/seedtest/analysis/metrics/weekly?${query(g, ['user_id', 'weeks', 'x'])}`,
        headers: analyst,
      },
      {
        group: 'analysis',
        method: 'POST',
        url: () => '/api/seedtest/analysis/metrics/recompute',
        headers: analyst,
        valid: () => ({ user_id: 'alice', week_start: '2026-11-23' }),
      },
      {
        group: 'analysis',
        method: 'GET',
        url: (g) => `/api/seedtest/analysis/features/topics?${query(g, ['user_id', 'from', 'to', 'x'])}`,
        headers: alice,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/items/${anyId(g)}/params?${query(g, ['limit', 'y'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/items/${anyId(g)}/history?${query(g, ['limit', 'y'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/items?${query(g, ['limit', 'after', 'topic_id', 'z'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/calibrations/${anyId(g)}`,
        headers: analyst,
      },
      {
        group: 'sessions',
        method: 'GET',
        url: (g) => `/api/seedtest/sessions/${anyId(g)}`,
        headers: reader,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) => `/api/seedtest/reports?${query(g, ['user_id', 'week_start', 'limit', 'x'])}`,
        headers: analyst,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) =>
          `/api/seedtest/reports/${g.chance(0.5) ? g.pick(['1', '0', '99999999999999999999']) : anyId(g)}/download`,
        headers: alice,
      },
      {
        group: 'jobs',
        method: 'POST',
        url: (g) =>
          `/api/seedtest/jobs/${g.chance(0.8) ? g.pick(['aggregate-features-daily', 'compute-daily-kpis', 'detect-inactivity']) : anyId(g)}/run`,
        headers: admin,
        valid: () => ({ date: '2026-11-30', dry_run: true, shard: '0/2', users: ['alice'] }),
      },
      {
        group: 'jobs',
        method: 'GET',
        url: (g) => `/api/seedtest/jobs/runs?${query(g, ['job', 'limit', 'x'])}`,
        headers: admin,
      },
      {
        group: 'jobs',
        method: 'GET',
        url: (g) => `/api/seedtest/jobs/runs/${g.chance(0.5) ? g.pick(['1', '2', '0']) : anyId(g)}`,
        headers: admin,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) => `/api/seedtest/cohorts?${query(g, ['limit', 'offset', 'z'])}`,
        headers: teacher,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) =>
          `/api/seedtest/cohorts/${anyId(g)}/learners?${query(g, ['sort', 'order', 'filter', 'week', 'limit', 'offset'])}`,
        headers: teacher,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) => `/api/seedtest/learners/${g.chance(0.5) ? 'alice' : anyId(g)}/overview`,
        headers: teacher,
      },
      {
        group: 'reports',
        method: 'GET',
        url: (g) =>
          `/api/seedtest/learners/${g.chance(0.5) ? 'alice' : anyId(g)}/charts?${query(g, ['locale'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) =>
          `/api/seedtest/item-bank?${query(g, ['run', 'filter', 'topic_id', 'limit', 'offset', 'z'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/item-bank/charts?${query(g, ['run', 'color', 'locale'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) => `/api/seedtest/item-bank/calibrations?${query(g, ['limit', 'offset'])}`,
        headers: analyst,
      },
      {
        group: 'items',
        method: 'GET',
        url: (g) =>
          `/api/seedtest/item-bank/items/${g.chance(0.5) ? 'i1' : anyId(g)}${g.chance(0.5) ? `/charts?${query(g, ['locale'])}` : ''}`,
        headers: analyst,
      },
      {
        group: 'irt-compat',
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
        group: 'irt-compat',
        method: 'POST',
        url: () => '/irt/score',
        headers: internal,
        valid: () => ({
          item_params: { I1: { a: 1, b: 0, c: 0.1 } },
          responses: [{ item_id: 'I1', is_correct: 1 }],
        }),
      },
      {
        group: 'irt-compat',
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
      {
        group: 'irt-compat',
        method: 'GET',
        url: (g) => `/healthz?${query(g, ['x'])}`,
        headers: internal,
      },
    ];
  });
  after(() => f.close());

  /** A job run started by an accepted request writes after its 202: wait for it to end. */
  async function jobsSettled() {
    for (;;) {
      const { rows } = await f.database.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM job_run WHERE status = 'running'`,
      );
      if (rows[0]?.n === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  for (const group of GROUPS) {
    it(`${group}: ${CASES} seeded cases, never a 5xx, the error shape on every 4xx, no row changed on refusal`, async () => {
      const g = new Gen(new Rng(SEED + GROUPS.indexOf(group)));
      const mine = targets.filter((t) => t.group === group);
      const statuses = new Map<number, number>();
      let known = await tableChecksums(f.database);
      let mark = await writeMark(f.database);
      for (let n = 0; n < CASES; n++) {
        const target = g.pick(mine);
        const mode =
          target.method === 'GET' ? 'none' : g.pick(['random', 'mutate', 'mutate', 'malformed', 'none']);
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
        const what = `${group} case ${n}: ${target.method} ${url} ${payload?.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        assert.ok(res.statusCode < 500, what);
        if (res.statusCode >= 400) {
          const body = res.json();
          assert.equal(typeof body.error?.code, 'string', what);
          assert.equal(typeof body.error?.message, 'string', what);
        } else if (group === 'jobs') {
          await jobsSettled();
        }
        if ((await writeMark(f.database)) !== mark) {
          const now = await tableChecksums(f.database);
          if (res.statusCode >= 400) assert.equal(now, known, `written on rejection: ${what}`);
          known = now;
          mark = await writeMark(f.database);
        }
      }
      // The generator reaches both sides: some requests pass, most are refused.
      const ok = [...statuses].filter(([s]) => s < 300).reduce((sum, [, k]) => sum + k, 0);
      assert.ok(ok > CASES / 100 && ok < CASES * 0.6, JSON.stringify([...statuses]));
    });
  }
});
