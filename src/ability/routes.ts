// IRT analysis routes: the online θ update of one learner and the θ history.
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { assertOwnOrScope, principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, Instant, ModelName, rejectNulls, BEARER as security } from '../api/schemas.js';
import { dateOrInstantInput } from '../api/time-input.js';
import { thetaHistory } from './repository.js';
import { ThetaUpdateError, ThetaUpdater } from './updater.js';

const UpdateBody = Type.Object(
  {
    user_id: Id('the learner'),
    session_id: Type.Optional(Id('a session of this learner, recorded on the row')),
    lookback_days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
    model: Type.Optional(ModelName),
    version: Type.Optional(Id('a calibration run id: score with that run only')),
  },
  { additionalProperties: false },
);

const UpdateResult = Type.Object({
  user_id: Type.String(),
  theta: Type.Number(),
  se: Type.Number(),
  model: Type.String(),
  version: Type.String(),
  session_id: Type.Union([Type.String(), Type.Null()]),
  n_responses: Type.Integer({ description: 'responses scored' }),
  n_skipped: Type.Integer({ description: 'responses to items without parameters (not scored)' }),
  updated_at: Instant,
});

const ThetaRow = Type.Object({
  theta: Type.Number(),
  se: Type.Union([Type.Number(), Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.Literal('calibration'), Type.Literal('online')]),
  session_id: Type.Union([Type.String(), Type.Null()]),
  n_responses: Type.Union([Type.Integer(), Type.Null()]),
  fitted_at: Instant,
});

export const analysisIrtRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database }) => {
  const updater = new ThetaUpdater(database);

  app.post(
    '/analysis/irt/update-theta',
    {
      preHandler: requireScope('exam:write', 'analysis:run'),
      preValidation: rejectNulls(),
      schema: {
        tags: ['analysis'],
        summary: "Re-estimate a learner's θ now (EAP on the latest response per item of the window)",
        description:
          'exam:write may update its own θ; analysis:run any learner. 404 NO_RESPONSES when nothing in the ' +
          'window can be scored, 409 NO_CALIBRATION before the first calibration.',
        security,
        body: UpdateBody,
        response: { 200: UpdateResult },
      },
    },
    async (request) => {
      const body = request.body;
      assertOwnOrScope(principalOfRequest(request), body.user_id, 'analysis:run');
      try {
        const r = await updater.update({
          userId: body.user_id,
          sessionId: body.session_id,
          lookbackDays: body.lookback_days,
          model: body.model === '1PL' ? 'Rasch' : body.model,
          version: body.version,
        });
        return {
          user_id: r.userId,
          theta: r.theta,
          se: r.se,
          model: r.model,
          version: r.version,
          session_id: r.sessionId,
          n_responses: r.nResponses,
          n_skipped: r.nSkipped,
          updated_at: r.updatedAt.toISOString(),
        };
      } catch (err) {
        if (err instanceof ThetaUpdateError) {
          throw new ApiError(err.code, err.message, err.details);
        }
        throw err;
      }
    },
  );

  app.get(
    '/analysis/irt/theta',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['analysis'],
        summary: 'θ history of a learner (calibration and online rows), newest first',
        security,
        querystring: Type.Object(
          {
            user_id: Type.Optional(Id('default: the token subject')),
            since: Type.Optional(
              Type.String({
                maxLength: 64,
                description: 'ISO 8601 date, or date-time with a zone: rows fitted at or after',
              }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ user_id: Type.String(), history: Type.Array(ThetaRow) }) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const { user_id: userId = principal.sub, since, limit } = request.query;
      assertOwnOrScope(principal, userId, 'analysis:run');
      const from =
        since === undefined ? undefined : dateOrInstantInput(since, 'since', 'querystring', config);
      const rows = await thetaHistory(database.db, userId, { ...(from && { since: from }), limit });
      return {
        user_id: userId,
        history: rows.map((r) => ({ ...r, fitted_at: r.fitted_at.toISOString() })),
      };
    },
  );
};
