// Exam sessions and their attempts: create, post a batch of attempts (one transaction, one
// set-based INSERT … SELECT, duplicates by client_attempt_id skipped), complete.
import { randomUUID } from 'node:crypto';
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import type { Selectable, Transaction } from 'kysely';
import { unservedItems } from '../adaptive/repository.js';
import { type AdaptiveSettings, CatSessionError, CatSessions } from '../adaptive/sessions.js';
import { assertOwnOrScope, type Principal, principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, InstantInput, BEARER as security } from '../api/schemas.js';
import { instantInput } from '../api/time-input.js';
import type { ExamSessionTable, Schema } from '../db/schema.js';
import { MAX_HINTS, MAX_RESPONSE_TIME_MS } from './limits.js';
import {
  completeSession,
  conflictingAttempts,
  ensureLearner,
  findSession,
  insertAttempts,
  insertSession,
  type SentAttempt,
  sessionAttemptCounts,
  unknownItems,
} from './repository.js';

const Session = Type.Object({
  session_id: Type.String(),
  user_id: Type.String(),
  exam_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('abandoned')]),
  started_at: Type.String({ format: 'date-time' }),
  completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  mode: Type.Union([Type.Literal('fixed'), Type.Literal('adaptive')]),
  settings: Type.Union([
    Type.Object({
      max_items: Type.Integer(),
      min_items: Type.Integer(),
      se_target: Type.Union([Type.Number(), Type.Null()]),
      topics: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
      exposure: Type.String(),
      kl_items: Type.Integer(),
      exclude_days: Type.Integer(),
    }),
    Type.Null(),
  ]),
});

/** Bounds keep a design servable: 500 items is far beyond any adaptive test. */
const MAX_ITEMS = 500;

const AdaptiveSettingsBody = Type.Object(
  {
    max_items: Type.Integer({ minimum: 1, maximum: MAX_ITEMS, description: 'hard length limit' }),
    min_items: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_ITEMS, description: 'no SE stop before this many; default 1' }),
    ),
    se_target: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 10,
        description: 'stop once the posterior SD is at most this',
      }),
    ),
    topics: Type.Optional(
      Type.Record(Id('a topic id'), Type.Number({ minimum: 0, maximum: 1e6 }), {
        maxProperties: 200,
        description: 'target share per topic id (normalised; Kingsbury–Zara)',
      }),
    ),
    exposure: Type.Optional(
      Type.String({
        pattern: '^(none|randomesque:[1-9][0-9]?|sympson-hetter)$',
        description:
          '"none" (default), "randomesque:k" (uniform among the k best, k ≤ 99) or "sympson-hetter" ' +
          '(the parameters imported for the latest calibration run that has them)',
      }),
    ),
    kl_items: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_ITEMS,
        description: 'first items chosen by the KL index; default 0',
      }),
    ),
    exclude_days: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3650,
        description:
          'items the learner answered in other sessions within these days are not served; default CAT_EXCLUDE_DAYS',
      }),
    ),
  },
  { additionalProperties: false },
);

const CreateSessionBody = Type.Object(
  {
    session_id: Type.Optional(Id('generated when absent')),
    user_id: Type.Optional(Id('defaults to the token subject; another user needs analysis:run')),
    exam_id: Type.Optional(Id('the exam this session belongs to')),
    started_at: Type.Optional(InstantInput('defaults to now')),
    mode: Type.Optional(
      Type.Union([Type.Literal('fixed'), Type.Literal('adaptive')], {
        description: 'adaptive: GET …/next-item chooses the items; default fixed',
      }),
    ),
    settings: Type.Optional(AdaptiveSettingsBody),
  },
  { additionalProperties: false },
);

const NextItem = Type.Union([
  Type.Object({
    item_id: Type.String(),
    topic_id: Type.String(),
    position: Type.Integer(),
    theta: Type.Number(),
    se: Type.Number(),
  }),
  Type.Object({
    done: Type.Literal(true),
    reason: Type.Union([Type.Literal('se_target'), Type.Literal('max_items'), Type.Literal('no_items')]),
    theta: Type.Number(),
    se: Type.Number(),
    n_items: Type.Integer(),
  }),
]);

const SessionParams = Type.Object({ session_id: Id('the session') }, { additionalProperties: false });

const Attempt = Type.Object(
  {
    client_attempt_id: Type.Optional(Id('makes a retried upload idempotent')),
    item_id: Id('a known item'),
    correct: Type.Boolean(),
    response_time_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_RESPONSE_TIME_MS })),
    hints: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_HINTS })),
    answered_at: Type.Optional(InstantInput('defaults to now')),
  },
  { additionalProperties: false },
);

const AttemptsBody = Type.Object(
  { attempts: Type.Array(Attempt, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

const AttemptsResult = Type.Object({ inserted: Type.Integer(), duplicates: Type.Integer() });

const SessionDetail = Type.Composite([
  Session,
  Type.Object({
    attempts: Type.Object({
      count: Type.Integer({ description: 'attempts recorded' }),
      correct: Type.Integer({ description: 'of which correct' }),
    }),
  }),
]);

const CompleteResult = Type.Object({
  status: Type.Literal('completed'),
  theta_update: Type.Union([Type.Literal('queued'), Type.Literal('disabled'), Type.Literal('not_queued')], {
    description:
      'queued: the update is on the queue; disabled: ENABLE_IRT_ONLINE_UPDATE is off; not_queued: it is on but this server has no queue',
  }),
});

function toSession(row: Selectable<ExamSessionTable>): Static<typeof Session> {
  return {
    session_id: row.session_id,
    user_id: row.user_id,
    exam_id: row.exam_id,
    status: row.status,
    started_at: new Date(row.started_at).toISOString(),
    completed_at: row.completed_at ? new Date(row.completed_at).toISOString() : null,
    mode: row.mode,
    settings: row.settings as AdaptiveSettings | null,
  };
}

const differ = (x: number | null, y: number | null) => x !== null && y !== null && x !== y;

/** Client ids used twice in one batch for different answers (optional fields compared when both give them). */
function conflictsWithinBatch(sent: readonly SentAttempt[]): string[] {
  const first = new Map<string, SentAttempt>();
  const out: string[] = [];
  for (const a of sent) {
    if (a.client_attempt_id === null || a.client_attempt_id === undefined) continue;
    const b = first.get(a.client_attempt_id);
    if (!b) first.set(a.client_attempt_id, a);
    else if (
      a.item_id !== b.item_id ||
      a.correct !== b.correct ||
      differ(a.response_time_ms, b.response_time_ms) ||
      differ(a.hints, b.hints) ||
      differ(a.answered_at?.getTime() ?? null, b.answered_at?.getTime() ?? null)
    ) {
      out.push(a.client_attempt_id);
    }
  }
  return out;
}

const invalid = (field: string, message: string) =>
  new ApiError('INVALID_INPUT', `${field} ${message}`, { fields: [{ field, in: 'body', message }] });

/** The stored settings of a new session (defaults filled in), or null for a fixed one; 400 naming the field. */
function adaptiveSettings(
  body: Static<typeof CreateSessionBody>,
  excludeDays: number,
): AdaptiveSettings | null {
  const mode = body.mode ?? 'fixed';
  if (mode === 'fixed') {
    if (body.settings) throw invalid('settings', 'is only allowed with mode "adaptive"');
    return null;
  }
  const s = body.settings;
  if (!s) throw invalid('settings', 'is required with mode "adaptive"');
  const minItems = s.min_items ?? 1;
  if (minItems > s.max_items) throw invalid('settings.min_items', 'must be at most settings.max_items');
  if (s.topics && !Object.values(s.topics).some((x) => x > 0))
    throw invalid('settings.topics', 'must give some topic a share above 0');
  return {
    max_items: s.max_items,
    min_items: minItems,
    se_target: s.se_target ?? null,
    topics: s.topics ?? null,
    exposure: s.exposure ?? 'none',
    kl_items: s.kl_items ?? 0,
    exclude_days: s.exclude_days ?? excludeDays,
  };
}

/** The session, locked for the rest of the transaction, after the 404 and ownership checks. */
async function lockSession(trx: Transaction<Schema>, sessionId: string, principal: Principal) {
  const session = await findSession(trx, sessionId, { forUpdate: true });
  if (!session) throw new ApiError('SESSION_NOT_FOUND', `no session ${sessionId}`);
  assertOwnOrScope(principal, session.user_id, 'analysis:run');
  return session;
}

export const sessionRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { database, config, metrics } = deps;
  const cat = new CatSessions(database);

  app.post(
    '/sessions',
    {
      preHandler: requireScope('exam:write'),
      schema: {
        tags: ['sessions'],
        summary: 'Start an exam session (the learner is created on first sight)',
        security,
        body: CreateSessionBody,
        response: { 200: Session, 201: Session },
      },
    },
    async (request, reply) => {
      const principal = principalOfRequest(request);
      const body = request.body;
      const userId = body.user_id ?? principal.sub;
      assertOwnOrScope(principal, userId, 'analysis:run');
      const settings = adaptiveSettings(body, config.cat.excludeDays);
      const startedAt = body.started_at
        ? instantInput(body.started_at, 'started_at', 'body', config)
        : new Date();
      const sessionId = body.session_id ?? randomUUID();
      const orgId = userId === principal.sub ? (principal.org_id ?? null) : null;

      // A refusal is thrown inside the transaction: the learner row goes with it.
      const { row, created } = await database.db.transaction().execute(async (trx) => {
        await ensureLearner(trx, userId, orgId);
        const inserted = await insertSession(trx, {
          session_id: sessionId,
          user_id: userId,
          exam_id: body.exam_id ?? null,
          status: 'open',
          started_at: startedAt,
          mode: settings ? 'adaptive' : 'fixed',
          settings: settings && JSON.stringify(settings),
        });
        if (inserted) return { row: inserted, created: true };
        const existing = await findSession(trx, sessionId);
        if (!existing) throw new Error(`session ${sessionId} neither inserted nor found`);
        if (existing.user_id !== userId) {
          throw new ApiError('SESSION_EXISTS', `session ${sessionId} already exists`);
        }
        return { row: existing, created: false };
      });
      return reply.status(created ? 201 : 200).send(toSession(row));
    },
  );

  app.get(
    '/sessions/:session_id',
    {
      preHandler: requireScope('exam:read'),
      schema: {
        tags: ['sessions'],
        summary: 'A session and the count of its attempts (a learner sees only its own sessions)',
        security,
        params: SessionParams,
        response: { 200: SessionDetail },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const { session_id: sessionId } = request.params;
      const session = await findSession(database.db, sessionId);
      if (!session) throw new ApiError('SESSION_NOT_FOUND', `no session ${sessionId}`);
      assertOwnOrScope(principal, session.user_id, 'analysis:run');
      return { ...toSession(session), attempts: await sessionAttemptCounts(database.db, sessionId) };
    },
  );

  app.post(
    '/sessions/:session_id/attempts',
    {
      preHandler: requireScope('exam:write'),
      schema: {
        tags: ['sessions'],
        summary: 'Record a batch of 1..1000 attempts (duplicates by client_attempt_id are skipped)',
        security,
        params: SessionParams,
        body: AttemptsBody,
        response: { 201: AttemptsResult },
      },
    },
    async (request, reply) => {
      const principal = principalOfRequest(request);
      const { session_id: sessionId } = request.params;
      const attempts = request.body.attempts;
      const answeredAt = attempts.map((a, i) =>
        a.answered_at ? instantInput(a.answered_at, `attempts[${i}].answered_at`, 'body', config) : null,
      );
      const itemIds = attempts.map((a) => a.item_id);
      const sent: SentAttempt[] = attempts.map((a, i) => ({
        session_id: sessionId,
        item_id: a.item_id,
        correct: a.correct,
        response_time_ms: a.response_time_ms ?? null,
        hints: a.hints ?? null,
        answered_at: answeredAt[i] ?? null,
        client_attempt_id: a.client_attempt_id ?? null,
      }));
      const conflicts = new Set(conflictsWithinBatch(sent));

      const inserted = await database.db.transaction().execute(async (trx) => {
        const session = await lockSession(trx, sessionId, principal);
        if (session.status !== 'open') {
          throw new ApiError(
            'SESSION_CLOSED',
            `session ${sessionId} is ${session.status} and takes no more attempts`,
          );
        }
        const unknown = await unknownItems(trx, itemIds);
        if (unknown.length > 0) {
          throw new ApiError('UNKNOWN_ITEMS', `unknown item ids: ${unknown.join(', ')}`, {
            item_ids: unknown,
          });
        }
        for (const cid of await conflictingAttempts(trx, sent)) conflicts.add(cid);
        if (conflicts.size > 0) {
          const ids = [...conflicts].sort();
          throw new ApiError(
            'ATTEMPT_CONFLICT',
            `client_attempt_id ${ids.join(', ')} already recorded with other content`,
            { client_attempt_ids: ids },
          );
        }
        if (session.mode === 'adaptive') {
          const unserved = await unservedItems(trx, sessionId, itemIds);
          if (unserved.length > 0) {
            throw new ApiError(
              'ITEM_NOT_SERVED',
              `items not served in adaptive session ${sessionId}: ${unserved.join(', ')}`,
              { item_ids: unserved },
            );
          }
        }
        const now = new Date();
        const result = await insertAttempts(
          trx,
          sent.map((a) => ({
            ...a,
            user_id: session.user_id,
            hints: a.hints ?? 0,
            answered_at: a.answered_at ?? now,
          })),
        );
        return result.inserted;
      });
      return reply.status(201).send({ inserted, duplicates: attempts.length - inserted });
    },
  );

  app.get(
    '/sessions/:session_id/next-item',
    {
      preHandler: requireScope('exam:write'),
      schema: {
        tags: ['sessions'],
        summary:
          'The next item of an adaptive session, recorded as served (asking again before answering returns it again), or why the test is over',
        security,
        params: SessionParams,
        response: { 200: NextItem },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const { session_id: sessionId } = request.params;
      const started = process.hrtime.bigint();
      try {
        const snap = await cat.load(sessionId);
        assertOwnOrScope(principal, snap.user_id, 'analysis:run');
        const step = await cat.next(sessionId, snap);
        metrics.catNextItemSeconds.observe(
          { result: step.done ? 'done' : step.newlyServed ? 'served' : 'repeated' },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
        if (step.done) {
          return {
            done: true as const,
            reason: step.reason,
            theta: step.theta,
            se: step.se,
            n_items: step.nItems,
          };
        }
        if (step.newlyServed) metrics.catItemsServed.inc({ topic: step.topicId });
        return {
          item_id: step.itemId,
          topic_id: step.topicId,
          position: step.position,
          theta: step.theta,
          se: step.se,
        };
      } catch (err) {
        if (err instanceof CatSessionError) throw new ApiError(err.code, err.message);
        throw err;
      }
    },
  );

  app.post(
    '/sessions/:session_id/complete',
    {
      preHandler: requireScope('exam:write'),
      schema: {
        tags: ['sessions'],
        summary: 'Mark a session completed (idempotent) and enqueue the ability update',
        security,
        params: SessionParams,
        response: { 200: CompleteResult },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const { session_id: sessionId } = request.params;
      const userId = await database.db.transaction().execute(async (trx) => {
        const session = await lockSession(trx, sessionId, principal);
        if (session.status === 'abandoned') {
          throw new ApiError('SESSION_ABANDONED', `session ${sessionId} was abandoned`);
        }
        if (session.status === 'open') {
          await completeSession(trx, sessionId);
        }
        return session.user_id;
      });
      if (!config.enableIrtOnlineUpdate)
        return { status: 'completed' as const, theta_update: 'disabled' as const };
      // A server built without a queue (no hook) has nowhere to put the update: it says so.
      if (!deps.onSessionCompleted)
        return { status: 'completed' as const, theta_update: 'not_queued' as const };
      // A repeated completion enqueues again: a learner has at most one queued θ update, so it collapses there.
      await deps.onSessionCompleted(userId, sessionId);
      return { status: 'completed' as const, theta_update: 'queued' as const };
    },
  );
};
