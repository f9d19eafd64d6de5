// The admin route for cohorts (docs/api.md → Dashboard): create or rename a cohort, and replace its
// members, through cohorts/repository.ts (the one writer of the roster tables), like a roster import of
// one cohort.
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id } from '../api/schemas.js';
import { memberCount, upsertCohort, writeRosters } from './repository.js';

/** The most members one request may name (a school year, not the platform). */
const MAX_MEMBERS = 10_000;

export const cohortAdminRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { database }) => {
  app.put(
    '/cohorts/:cohort_id',
    {
      preHandler: requireScope('admin'),
      schema: {
        tags: ['dashboard'],
        summary:
          'Create or rename a cohort; with members, replace its roster with exactly them (learners not seen before are created)',
        security: [{ bearerAuth: [] }],
        params: Type.Object({ cohort_id: Id('the cohort') }, { additionalProperties: false }),
        body: Type.Object(
          {
            name: Type.String({
              minLength: 1,
              maxLength: 200,
              pattern: '\\S',
              description: 'shown on the pages',
            }),
            members: Type.Optional(
              Type.Array(Id('a learner'), {
                maxItems: MAX_MEMBERS,
                uniqueItems: true,
                description: 'the whole roster (an empty list empties it); omitted: members unchanged',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            cohort_id: Type.String(),
            name: Type.String(),
            created: Type.Boolean(),
            members: Type.Integer({ description: 'members now' }),
            learners_created: Type.Integer({ description: 'learners the roster named that were new' }),
          }),
        },
      },
    },
    async (request) => {
      const { cohort_id: cohortId } = request.params;
      const name = request.body.name.trim();
      const { db } = database;
      return db.transaction().execute(async (trx) => {
        const { created } = await upsertCohort(trx, cohortId, name);
        let learnersCreated = 0;
        if (request.body.members) {
          const r = await writeRosters(trx, {
            cohorts: [{ cohort_id: cohortId, name }],
            members: request.body.members.map((user_id) => ({ cohort_id: cohortId, user_id })),
          });
          learnersCreated = r.learners;
        }
        const members = await memberCount(trx, cohortId);
        return {
          cohort_id: cohortId,
          name,
          created,
          members,
          learners_created: learnersCreated,
        };
      });
    },
  );
};
