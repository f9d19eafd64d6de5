// Drop-in routes of the original R IRT service (spec/irt.md → Compatibility), outside the API
// prefix and guarded by the internal token: GET /healthz, POST /irt/calibrate, POST /irt/score.
// Besides the R service's own bodies they accept what the original platform's Python client sent:
// item parameters keyed by item id with one person's responses as [{item_id, is_correct}], and
// observations with responded_at, anchors as {item_id, params, fixed}. Stateless: nothing is
// written. Body size and work are bounded (413 past a limit).
import { randomUUID } from 'node:crypto';
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireInternalToken } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, ModelName, rejectNulls } from '../api/schemas.js';
import {
  calibrateLinked,
  DEFAULT_GRID,
  fromTriples,
  type ItemParams,
  itemModel,
  type LinkingMethod,
  MAX_BFGS_PARAMS,
  OnlineScorer,
  scorePositional,
} from '../irt/index.js';
import { InvalidInputError, UserError } from '../user-error.js';
import { VERSION } from '../version.js';

/** A date, or a date-time with an optional zone (UTC when absent). */
const ISO_INSTANT =
  '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})?)?$';

/**
 * Parses an ISO 8601 date or date-time (a space for the T is accepted); 400 naming the field
 * otherwise. For the R-compatible routes' `responded_at` only, which orders duplicates and is not
 * stored: their clients send what the original service took (docs/decisions.md).
 */
function parseInstant(given: string, field: string): Date {
  const value = given.replace(' ', 'T');
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(value);
  const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : zoned ? value : `${value}Z`);
  if (Number.isNaN(d.getTime())) {
    throw new ApiError('INVALID_INPUT', `${field} is not a valid date or date-time`, {
      fields: [{ field, message: 'is not a valid date or date-time' }],
    });
  }
  return d;
}

const MIB = 1024 * 1024;
/** Limits: one call cannot exhaust the server (413 past them). */
export const LIMITS = {
  scoreBodyBytes: 8 * MIB,
  scoreItems: 10_000,
  scoreRows: 100_000,
  scoreResponses: 1_000_000,
  calibrateBodyBytes: 32 * MIB,
  calibrateObservations: 500_000,
  anchors: 10_000,
} as const;

const security = [{ internalToken: [] }];

// Enums, not typed unions: the server's validator coerces across types (0 ↔ null ↔ false, "1" → 1),
// which an enum (compared as is) never does.
const Correct = Type.Unsafe<boolean | 0 | 1>({ enum: [true, false, 0, 1], description: 'true/false or 1/0' });
const Cell = Type.Unsafe<0 | 1 | null>({
  enum: [0, 1, null],
  description: '1 correct, 0 wrong, null not presented',
});

const Params = Type.Object(
  {
    a: Type.Number({ minimum: -50, maximum: 50 }),
    b: Type.Number({ minimum: -100, maximum: 100 }),
    c: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  },
  { additionalProperties: false },
);

const GridOptions = {
  quadpts: Type.Optional(
    Type.Integer({ minimum: 2, maximum: 401, description: 'default 81 for scoring, 61 for calibration' }),
  ),
  theta_lim: Type.Optional(
    Type.Tuple([Type.Number({ minimum: -20, maximum: 20 }), Type.Number({ minimum: -20, maximum: 20 })], {
      description: 'default [-4, 4] for scoring, [-6, 6] for calibration',
    }),
  ),
};

const ScoreBody = Type.Object(
  {
    item_params: Type.Union(
      [
        Type.Array(Params, { minItems: 1, maxItems: LIMITS.scoreItems }),
        Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Params),
      ],
      { description: 'positional [{a, b, c?}] (R service) or {item_id: {a, b, c?}} (Python client)' },
    ),
    responses: Type.Union(
      [
        Type.Array(Type.Array(Cell), {
          maxItems: LIMITS.scoreRows,
        }),
        Type.Array(
          Type.Object(
            { item_id: Id('a key of item_params'), is_correct: Correct },
            { additionalProperties: false },
          ),
          { maxItems: LIMITS.scoreResponses },
        ),
      ],
      {
        description:
          'rows of 0/1/null by item position, one per person (R service), or one person as [{item_id, is_correct}] (Python client)',
      },
    ),
    ...GridOptions,
  },
  { additionalProperties: false },
);

const Ability = Type.Object({ theta: Type.Number(), se: Type.Number() });

const ScoreResult = Type.Object({
  status: Type.Literal('ok'),
  abilities: Type.Array(Ability),
  theta: Type.Optional(Type.Number({ description: 'Python-client shape: the one person' })),
  se: Type.Optional(Type.Number()),
  standard_error: Type.Optional(Type.Number()),
  n_responses: Type.Optional(Type.Integer()),
});

const Observation = Type.Object(
  {
    user_id: Id('the person'),
    item_id: Id('the item'),
    is_correct: Correct,
    responded_at: Type.Optional(
      Type.String({ pattern: ISO_INSTANT, description: 'the latest response of a person to an item counts' }),
    ),
  },
  { additionalProperties: false },
);

const Anchor = Type.Object(
  {
    item_id: Id('an item of the observations'),
    params: Params,
    fixed: Type.Optional(
      Type.Boolean({ description: 'default true: held at params; false: mean-sigma linking' }),
    ),
  },
  { additionalProperties: false },
);

const CalibrateBody = Type.Object(
  {
    observations: Type.Array(Observation, { minItems: 1, maxItems: LIMITS.calibrateObservations }),
    model: Type.Optional(ModelName),
    anchors: Type.Optional(Type.Array(Anchor, { maxItems: LIMITS.anchors })),
    ...GridOptions,
  },
  { additionalProperties: false },
);

const CalibrateResult = Type.Object({
  status: Type.Literal('ok'),
  fit_meta: Type.Object({
    run_id: Type.String(),
    model_spec: Type.Object({}, { additionalProperties: true }),
    metrics: Type.Object({}, { additionalProperties: true }),
    linking_constants: Type.Object({
      method: Type.String(),
      A: Type.Number(),
      B: Type.Number(),
      n_anchors: Type.Integer(),
      anchors: Type.Array(Type.String()),
    }),
  }),
  item_params: Type.Array(
    Type.Object({
      item_id: Type.String(),
      params: Type.Object({ a: Type.Number(), b: Type.Number(), c: Type.Number(), d: Type.Number() }),
    }),
  ),
  abilities: Type.Array(Type.Object({ user_id: Type.String(), theta: Type.Number(), se: Type.Number() })),
});

function tooLarge(what: string, count: number, limit: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `${what}: ${count} is more than the limit of ${limit}`, {
    count,
    limit,
  });
}

/** Null means "not presented" only in positional response rows. */
const nullsOf = rejectNulls(
  (path) => path.length === 3 && path[0] === 'responses' && typeof path[2] === 'number',
);

/**
 * Before validation: count limits (an oversized array is a 413 and is never validated), then nulls
 * where the contract has none.
 */
async function bounded(request: FastifyRequest): Promise<void> {
  boundCounts(request);
  await nullsOf(request);
}

function boundCounts(request: FastifyRequest): void {
  const body = request.body as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) return;
  const { observations, responses, item_params: items } = body;
  if (Array.isArray(observations) && observations.length > LIMITS.calibrateObservations)
    throw tooLarge('observations', observations.length, LIMITS.calibrateObservations);
  const nItems = Array.isArray(items)
    ? items.length
    : items && typeof items === 'object'
      ? Object.keys(items).length
      : 0;
  if (nItems > LIMITS.scoreItems) throw tooLarge('item_params', nItems, LIMITS.scoreItems);
  if (!Array.isArray(responses)) return;
  if (responses.every(Array.isArray)) {
    if (responses.length > LIMITS.scoreRows)
      throw tooLarge('responses (rows)', responses.length, LIMITS.scoreRows);
    const cells = responses.reduce((s: number, row: unknown[]) => s + row.length, 0);
    if (cells > LIMITS.scoreResponses) throw tooLarge('responses (cells)', cells, LIMITS.scoreResponses);
  } else if (responses.length > LIMITS.scoreResponses) {
    throw tooLarge('responses', responses.length, LIMITS.scoreResponses);
  }
}

/** The quadrature grid of a call: the given quadpts / theta_lim, else the defaults. */
function gridOf(
  body: { quadpts?: number; theta_lim?: [number, number] },
  defaults: { readonly quadpts: number; readonly thetaLim: readonly [number, number] },
) {
  const [lo, hi] = body.theta_lim ?? defaults.thetaLim;
  if (!(lo < hi)) {
    throw new ApiError('INVALID_INPUT', 'theta_lim must be [low, high] with low < high', {
      fields: [{ field: 'theta_lim', message: 'must be [low, high] with low < high' }],
    });
  }
  return { quadpts: body.quadpts ?? defaults.quadpts, thetaLim: [lo, hi] as [number, number] };
}

const asBit = (x: boolean | 0 | 1) => (x === true || x === 1 ? 1 : 0);
const toParams = (p: Static<typeof Params>): ItemParams => ({ a: p.a, b: p.b, c: p.c ?? 0 });

function score(body: Static<typeof ScoreBody>): Static<typeof ScoreResult> {
  const opts = gridOf(body, { quadpts: 81, thetaLim: [-4, 4] });
  const { item_params: items, responses } = body;
  if (Array.isArray(items)) {
    if (!responses.every(Array.isArray)) {
      throw new ApiError('INVALID_INPUT', 'with positional item_params, responses must be rows of 0/1/null', {
        fields: [{ field: 'responses', message: 'must be an array of rows' }],
      });
    }
    try {
      return { status: 'ok', abilities: scorePositional(items, responses as (0 | 1 | null)[][], opts) };
    } catch (err) {
      if (err instanceof InvalidInputError) throw new ApiError('INVALID_INPUT', err.message);
      throw err;
    }
  }
  if (responses.some(Array.isArray)) {
    throw new ApiError(
      'INVALID_INPUT',
      'with item_params keyed by item id, responses must be [{item_id, is_correct}]',
      {
        fields: [{ field: 'responses', message: 'must be an array of {item_id, is_correct}' }],
      },
    );
  }
  const ids = Object.keys(items);
  const index = new Map(ids.map((id, j) => [id, j]));
  // One response per item: the last one sent counts (the engine's rule for duplicates).
  const latest = new Map<number, number>();
  const unknown = new Set<string>();
  for (const r of responses as { item_id: string; is_correct: boolean | 0 | 1 }[]) {
    const j = index.get(r.item_id);
    if (j === undefined) unknown.add(r.item_id);
    else latest.set(j, asBit(r.is_correct));
  }
  if (unknown.size > 0) {
    const list = [...unknown].slice(0, 20);
    throw new ApiError('UNKNOWN_ITEMS', `responses name items without parameters: ${list.join(', ')}`, {
      item_ids: list,
    });
  }
  const scorer = new OnlineScorer(
    ids.map((id) => toParams(items[id]!)),
    opts,
  );
  const { theta, se } = scorer.eap(Int32Array.from(latest.keys()), Uint8Array.from(latest.values()));
  return {
    status: 'ok',
    theta,
    se,
    standard_error: se,
    n_responses: latest.size,
    abilities: [{ theta, se }],
  };
}

function calibrateObservations(body: Static<typeof CalibrateBody>): Static<typeof CalibrateResult> {
  const t0 = performance.now();
  const model = body.model === '1PL' ? 'Rasch' : (body.model ?? '2PL');
  const opts = gridOf(body, DEFAULT_GRID);
  // One response per (person, item): the latest by responded_at, else the last sent. Persons and
  // items keep the order of the input.
  const at = body.observations.map((o, i) =>
    o.responded_at === undefined
      ? Number.NEGATIVE_INFINITY
      : parseInstant(o.responded_at, `observations[${i}].responded_at`).getTime(),
  );
  const keyOf = (i: number) => `${body.observations[i]!.user_id}\u0000${body.observations[i]!.item_id}`;
  const winner = new Map<string, number>();
  for (let i = 0; i < at.length; i++) {
    const w = winner.get(keyOf(i));
    if (w === undefined || at[i]! >= at[w]!) winner.set(keyOf(i), i);
  }
  const data = fromTriples(
    body.observations
      .filter((_, i) => winner.get(keyOf(i)) === i)
      .map((o) => ({ userId: o.user_id, itemId: o.item_id, correct: asBit(o.is_correct) })),
  );
  const excluded = {
    excluded_items: data.excludedItems,
    excluded_persons: data.excludedPersons,
    duplicates_dropped: body.observations.length - winner.size,
  };
  if (data.nItems === 0 || data.nPersons === 0) {
    throw new ApiError('CALIBRATION_FAILED', 'no item has enough usable responses to calibrate', excluded);
  }
  const anchors = body.anchors ?? [];
  const fixed = anchors.filter((a) => a.fixed !== false);
  const linkWith = fixed.length > 0 ? fixed : anchors;
  const linking: LinkingMethod = anchors.length === 0 ? 'none' : fixed.length > 0 ? 'fixed' : 'mean-sigma';
  // A drop-in for mirt: its iteration (same stopping point) wherever its joint M-step is affordable.
  const mirtCompat = itemModel(model).free.length * data.nItems <= MAX_BFGS_PARAMS;
  let fit: ReturnType<typeof calibrateLinked>;
  try {
    fit = calibrateLinked(data, {
      model,
      ...opts,
      mirtCompat,
      anchors: new Map(linkWith.map((a) => [a.item_id, toParams(a.params)])),
      linking,
    });
  } catch (err) {
    if (err instanceof UserError) throw new ApiError('CALIBRATION_FAILED', err.message, excluded);
    throw err;
  }
  const { calibration: cal, linking: link } = fit;
  const abilities = cal.abilities!;
  const finite =
    cal.items.every((it) => [it.a, it.b, it.c, it.d].every(Number.isFinite)) &&
    abilities.theta.every(Number.isFinite) &&
    abilities.se.every(Number.isFinite);
  if (!finite) {
    throw new ApiError(
      'CALIBRATION_FAILED',
      'the estimation did not reach finite estimates for these data',
      excluded,
    );
  }
  return {
    status: 'ok',
    fit_meta: {
      run_id: `irt-${randomUUID()}`,
      model_spec: {
        model,
        n_persons: data.nPersons,
        n_items: data.nItems,
        n_obs: data.nObs,
        quadpts: opts.quadpts,
        theta_lim: opts.thetaLim,
        iteration: mirtCompat ? 'mirt-compatible' : 'engine',
        ...excluded,
      },
      metrics: {
        logLik: cal.logLik,
        AIC: cal.AIC,
        BIC: cal.BIC,
        iterations: cal.iterations,
        converged: cal.converged,
        latent_mean: cal.latent.mean,
        latent_variance: cal.latent.variance,
        elapsed_ms: Math.round(performance.now() - t0),
      },
      linking_constants: {
        method: link.method,
        A: link.A,
        B: link.B,
        n_anchors: link.nAnchors,
        anchors: link.anchors,
      },
    },
    item_params: cal.items.map((it) => ({
      item_id: it.itemId,
      params: { a: it.a, b: it.b, c: it.c, d: it.d },
    })),
    abilities: data.personIds.map((id, p) => ({
      user_id: id,
      theta: abilities.theta[p]!,
      se: abilities.se[p]!,
    })),
  };
}

export const irtCompatRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config }) => {
  const onRequest = requireInternalToken(config.auth);

  app.get(
    '/healthz',
    {
      onRequest,
      schema: {
        tags: ['irt-compat'],
        summary: 'R-service health (internal token)',
        security,
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            service: Type.String(),
            version: Type.String(),
            time: Type.String({ format: 'date-time' }),
          }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      service: 'seedtest-irt',
      version: VERSION,
      time: new Date().toISOString(),
    }),
  );

  app.post(
    '/irt/score',
    {
      onRequest,
      preValidation: bounded,
      bodyLimit: LIMITS.scoreBodyBytes,
      schema: {
        tags: ['irt-compat'],
        summary: 'EAP abilities for given item parameters (R-service contract; internal token)',
        description: `N(0, 1) prior on 81 points over [-4, 4] unless quadpts / theta_lim are given. Limits: body ${LIMITS.scoreBodyBytes / MIB} MiB, ${LIMITS.scoreItems} items, ${LIMITS.scoreRows} rows, ${LIMITS.scoreResponses} responses (413 past them).`,
        security,
        body: ScoreBody,
        response: { 200: ScoreResult },
      },
    },
    async (request) => score(request.body),
  );

  app.post(
    '/irt/calibrate',
    {
      onRequest,
      preValidation: bounded,
      bodyLimit: LIMITS.calibrateBodyBytes,
      schema: {
        tags: ['irt-compat'],
        summary:
          'Calibrate item parameters and abilities from observations (R-service contract; internal token)',
        description: `Nothing is stored. Limits: body ${LIMITS.calibrateBodyBytes / MIB} MiB, ${LIMITS.calibrateObservations} observations (413 past them).`,
        security,
        body: CalibrateBody,
        response: { 200: CalibrateResult },
      },
    },
    async (request) => calibrateObservations(request.body),
  );
};
