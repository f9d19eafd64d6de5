import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scorePositional } from '../../../src/irt/index.js';
import { lsat7Rows } from '../../unit/irt/helpers.js';
import { createFixture, type Fixture } from './setup.js';

const INTERNAL = 'internal-token-for-the-r-compatible-routes';

/** True when `actual` rounds to `given` at the number of decimals written in `given`. */
function roundsTo(actual: number, given: string): boolean {
  const decimals = given.includes('.') ? given.length - given.indexOf('.') - 1 : 0;
  return Math.abs(actual - Number(given)) <= 0.5 * 10 ** -decimals * (1 + 1e-9);
}

const ITEMS = [
  { a: 1.2, b: -0.5 },
  { a: 0.8, b: 0.3 },
  { a: 1.0, b: 1.0 },
];
// spec/irt.md → Compatibility: the reference numbers of /irt/score.
const REFERENCE: [(0 | 1 | null)[], string, string][] = [
  [[1, 1, 0], '0.374', '0.7893'],
  [[0, 0, null], '-0.7714', '0.8395'],
  [[1, 1, 1], '1.0084', '0.8058'],
];
// mirt's full-precision LSAT7 2PL estimates (mod2values of mirt(expand.table(LSAT7), 1)).
const MIRT_A = ['0.9879254', '1.080885', '1.705801', '0.7651853', '0.735798'];
const MIRT_D = ['1.85606', '0.8079786', '1.804219', '0.4859966', '1.854513'];

function lsat7Observations() {
  return lsat7Rows().flatMap((row, p) =>
    row.map((x, j) => ({ user_id: `p${p + 1}`, item_id: `Item.${j + 1}`, is_correct: x })),
  );
}

describe('R-compatible routes (/healthz, /irt/score, /irt/calibrate)', () => {
  let f: Fixture;
  const auth = { authorization: `Bearer ${INTERNAL}` };
  before(async () => {
    f = await createFixture({ R_IRT_INTERNAL_TOKEN: INTERNAL });
  });
  after(() => f.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
    f.app.inject({ method: 'POST', url, headers, payload: payload as object });

  it('answers /healthz with the internal token (Bearer or X-Internal-Token) only', async () => {
    const ok = await f.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-internal-token': INTERNAL },
    });
    assert.equal(ok.statusCode, 200);
    const body = ok.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.service, 'seedtest-irt');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(Math.abs(Date.parse(body.time) - Date.now()) < 60_000);
    assert.equal((await f.app.inject({ method: 'GET', url: '/healthz', headers: auth })).statusCode, 200);
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'x-internal-token': `${INTERNAL}x` }]) {
      const res = await f.app.inject({ method: 'GET', url: '/healthz', headers });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'INVALID_TOKEN');
    }
    assert.equal((await post('/irt/score', { item_params: ITEMS, responses: [[1]] }, {})).statusCode, 401);
    assert.equal((await post('/irt/calibrate', { observations: [] }, {})).statusCode, 401);
  });

  it('/irt/score reproduces the reference numbers (positional rows, plain JSON numbers)', async () => {
    const res = await post('/irt/score', { item_params: ITEMS, responses: REFERENCE.map((r) => r[0]) });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.abilities.length, 3);
    body.abilities.forEach((a: { theta: number; se: number }, i: number) => {
      const [, theta, se] = REFERENCE[i]!;
      assert.equal(typeof a.theta, 'number');
      assert.ok(roundsTo(a.theta, theta), `row ${i + 1}: θ ${a.theta} vs ${theta}`);
      assert.ok(roundsTo(a.se, se), `row ${i + 1}: se ${a.se} vs ${se}`);
    });
    const custom = await post('/irt/score', {
      item_params: ITEMS,
      responses: [[1, 1, 0]],
      quadpts: 61,
      theta_lim: [-6, 6],
    });
    assert.deepEqual(
      custom.json().abilities,
      scorePositional(ITEMS, [[1, 1, 0]], { quadpts: 61, thetaLim: [-6, 6] }),
    );
  });

  it("/irt/score takes the Python client's shape: params keyed by item id, one person's responses", async () => {
    const res = await post('/irt/score', {
      item_params: { I1: { ...ITEMS[0], c: 0 }, I2: ITEMS[1], I3: ITEMS[2] },
      responses: [
        { item_id: 'I3', is_correct: true },
        { item_id: 'I1', is_correct: 1 },
        { item_id: 'I2', is_correct: true },
        // The last response to an item counts.
        { item_id: 'I3', is_correct: false },
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.ok(roundsTo(body.theta, '0.374'), String(body.theta));
    assert.ok(roundsTo(body.se, '0.7893'), String(body.se));
    assert.equal(body.standard_error, body.se);
    assert.deepEqual(body.abilities, [{ theta: body.theta, se: body.se }]);
    assert.equal(body.n_responses, 3);
  });

  it('/irt/score refuses mixed shapes, unknown items and bad values with 4xx', async () => {
    const cases: [unknown, number, string][] = [
      [{ item_params: ITEMS, responses: [{ item_id: 'I1', is_correct: true }] }, 400, 'INVALID_INPUT'],
      [{ item_params: { I1: ITEMS[0] }, responses: [[1]] }, 400, 'INVALID_INPUT'],
      [
        { item_params: { I1: ITEMS[0] }, responses: [{ item_id: 'I9', is_correct: true }] },
        422,
        'UNKNOWN_ITEMS',
      ],
      [{ item_params: ITEMS, responses: [[1, 1, 0, 1]] }, 400, 'INVALID_INPUT'],
      [{ item_params: ITEMS, responses: [[2]] }, 400, 'INVALID_INPUT'],
      // No coercion: a string or a boolean is not a response.
      [{ item_params: ITEMS, responses: [['1']] }, 400, 'INVALID_INPUT'],
      [{ item_params: ITEMS, responses: [[true]] }, 400, 'INVALID_INPUT'],
      [{ item_params: [{ a: null, b: 0 }], responses: [[1]] }, 400, 'INVALID_INPUT'],
      [
        { item_params: { I1: ITEMS[0] }, responses: [{ item_id: 'I1', is_correct: null }] },
        400,
        'INVALID_INPUT',
      ],
      [{ item_params: [{ a: 1, b: 0, c: 1 }], responses: [[1]] }, 400, 'INVALID_INPUT'],
      [{ item_params: ITEMS, responses: [[1]], theta_lim: [2, -2] }, 400, 'INVALID_INPUT'],
      [{ item_params: [], responses: [] }, 400, 'INVALID_INPUT'],
      [{ item_params: ITEMS }, 400, 'INVALID_INPUT'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/irt/score', body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error.code, code);
    }
  });

  it('/irt/calibrate on LSAT7 as observations reproduces mirt 2PL; nothing is stored', async () => {
    const observations = lsat7Observations();
    // Python-client extras: responded_at, and a duplicate whose later answer counts.
    observations[0] = { ...observations[0]!, responded_at: '2026-01-02T10:00:00Z' } as never;
    observations.push({
      user_id: 'p1',
      item_id: 'Item.1',
      is_correct: 1 - observations[0]!.is_correct,
      responded_at: '2026-01-01 09:00:00',
    } as never);
    const res = await post('/irt/calibrate', { observations, model: '2PL' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.match(body.fit_meta.run_id, /^irt-/);
    assert.equal(body.fit_meta.model_spec.duplicates_dropped, 1);
    assert.equal(body.fit_meta.metrics.logLik.toFixed(3), '-2658.805');
    assert.equal(body.fit_meta.linking_constants.method, 'none');
    body.item_params.forEach((it: { item_id: string; params: Record<string, number> }, j: number) => {
      assert.equal(it.item_id, `Item.${j + 1}`);
      assert.ok(roundsTo(it.params.a!, MIRT_A[j]!), `a${j + 1}: ${it.params.a} vs ${MIRT_A[j]}`);
      assert.ok(roundsTo(it.params.d!, MIRT_D[j]!), `d${j + 1}: ${it.params.d} vs ${MIRT_D[j]}`);
      assert.equal(it.params.c, 0);
      assert.ok(Math.abs(it.params.b! + it.params.d! / it.params.a!) < 1e-12);
    });
    assert.equal(body.abilities.length, 1000);
    const zero = lsat7Rows().findIndex((r) => r.every((x) => x === 0));
    assert.ok(roundsTo(body.abilities[zero].theta, '-1.869854'), String(body.abilities[zero].theta));
    assert.ok(roundsTo(body.abilities[zero].se, '0.692734'));
    const stored = await f.database.db.selectFrom('mirt_fit_meta').select('run_id').execute();
    assert.deepEqual(stored, []);
  });

  it('/irt/calibrate holds anchors {item_id, params, fixed} and links to them', async () => {
    const anchors = MIRT_A.map((a, j) => ({
      item_id: `Item.${j + 1}`,
      params: { a: Number(a), b: -Number(MIRT_D[j]) / Number(a), c: 0 },
      fixed: j < 3,
    }));
    const res = await post('/irt/calibrate', { observations: lsat7Observations(), model: '2PL', anchors });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.fit_meta.linking_constants.method, 'fixed');
    assert.deepEqual(body.fit_meta.linking_constants.anchors, ['Item.1', 'Item.2', 'Item.3']);
    for (let j = 0; j < 3; j++) assert.equal(body.item_params[j].params.a, anchors[j]!.params.a);
    // Anchored at mirt's own estimates, the free items land on them again and the scale stays N(0, 1).
    assert.ok(Math.abs(body.item_params[3].params.a - Number(MIRT_A[3])) < 2e-3);
    assert.ok(Math.abs(body.fit_meta.linking_constants.B) < 1e-2);

    const meanSigma = await post('/irt/calibrate', {
      observations: lsat7Observations(),
      anchors: anchors.map((a) => ({ ...a, fixed: false })),
    });
    assert.equal(meanSigma.json().fit_meta.linking_constants.method, 'mean-sigma');
  });

  it('/irt/calibrate refuses data it cannot fit with 422 and bad observations with 400', async () => {
    const few = await post('/irt/calibrate', {
      observations: [{ user_id: 'u', item_id: 'i', is_correct: true }],
    });
    assert.equal(few.statusCode, 422);
    assert.equal(few.json().error.code, 'CALIBRATION_FAILED');
    assert.equal(few.json().error.details.excluded_items[0].itemId, 'i');
    for (const observations of [
      [{ user_id: 'u', item_id: 'i', is_correct: 2 }],
      [{ user_id: 'u', item_id: 'i', is_correct: null }],
      [{ user_id: 'u', item_id: 'i' }],
      [{ user_id: 'u', item_id: 'i', is_correct: 1, responded_at: 'yesterday' }],
      [],
    ]) {
      const res = await post('/irt/calibrate', { observations });
      assert.equal(res.statusCode, 400, JSON.stringify(observations));
    }
  });

  it('bounds request size and work: 413 past the limits', async () => {
    const rows = await post('/irt/score', { item_params: ITEMS, responses: Array(100_001).fill([]) });
    assert.equal(rows.statusCode, 413);
    assert.equal(rows.json().error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(rows.json().error.message, /100000/);
    const cells = await post('/irt/score', {
      item_params: ITEMS,
      responses: Array(1001).fill(Array(1000).fill(0)),
    });
    assert.equal(cells.statusCode, 413);
    const observations = await post('/irt/calibrate', { observations: Array(500_001).fill({}) });
    assert.equal(observations.statusCode, 413);
    assert.match(observations.json().error.message, /observations/);
    const big = await f.app.inject({
      method: 'POST',
      url: '/irt/score',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"item_params":[],"responses":[],"pad":"${'x'.repeat(8 * 1024 * 1024)}"}`,
    });
    assert.equal(big.statusCode, 413);
    assert.match(big.json().error.message, /8 MiB/);
  });
});
