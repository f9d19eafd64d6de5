// Report routes: list a learner's stored reports, and download one (streamed from the filesystem
// store, or a redirect to a presigned URL when the reports live in S3; buckets stay private).
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import { assertOwnOrScope, hasScope, principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { dateInput } from '../api/time-input.js';
import { assertLearnerAccess } from '../cohorts/access.js';
import { findReport, learnerReports } from './repository.js';
import {
  CONTENT_TYPES,
  createReportStore,
  downloadUrl,
  type ReportFormat,
  ReportNotFoundError,
} from './storage.js';

const Edition = Type.Union([Type.Literal('learner'), Type.Literal('teacher')], {
  description: "the learner's edition, or the teacher's (θ, SE, scale version, targeting; analysis:run only)",
});

const Report = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  week_start: Type.String({ format: 'date' }),
  edition: Edition,
  format: Type.Union([Type.Literal('html'), Type.Literal('pdf')]),
  bytes: Type.Union([Type.Integer(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  generated_at: Type.String({ format: 'date-time' }),
  download_url: Type.String({ description: 'the stable URL of GET /reports/{id}/download' }),
});

const ListQuery = Type.Object(
  {
    user_id: Type.Optional(
      Id('whose reports; default the token subject (another learner needs analysis:run)'),
    ),
    week_start: Type.Optional(
      Type.String({ maxLength: 10, description: 'the ISO week (its Monday), YYYY-MM-DD' }),
    ),
    edition: Type.Optional(Edition),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);

const DownloadParams = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'the report_artifacts id' }) },
  { additionalProperties: false },
);

export const reportRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database }) => {
  const store = createReportStore({ dataDir: config.dataDir, ...config.reports });
  app.addHook('onClose', async () => store.close?.());

  app.get(
    '/reports',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['reports'],
        summary: 'Stored weekly reports of a learner, newest week first, each with its download URL',
        security,
        querystring: ListQuery,
        response: { 200: Type.Object({ reports: Type.Array(Report) }) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const userId = request.query.user_id ?? principal.sub;
      assertOwnOrScope(principal, userId, 'analysis:run');
      const given = request.query.week_start;
      const weekStart = given ? dateInput(given, 'week_start', 'querystring', config) : undefined;
      // A learner sees the learner's edition only.
      const teacher = hasScope(principal, 'analysis:run');
      if (request.query.edition === 'teacher' && !teacher) {
        throw new ApiError('INSUFFICIENT_SCOPE', "the teacher's edition needs analysis:run");
      }
      const edition = request.query.edition ?? (teacher ? undefined : 'learner');
      const rows = await learnerReports(database.db, userId, {
        ...(weekStart && { weekStart }),
        ...(edition && { edition }),
        limit: request.query.limit,
      });
      return {
        reports: rows.map(
          (r): Static<typeof Report> => ({
            ...r,
            generated_at: r.generated_at.toISOString(),
            download_url: downloadUrl(config.publicBaseUrl ?? `${request.protocol}://${request.host}`, r.id),
          }),
        ),
      };
    },
  );

  app.get(
    '/reports/:id/download',
    {
      preHandler: requireScope('reports:view', 'cohort:view', 'analysis:run'),
      schema: {
        tags: ['reports'],
        summary:
          "The report file (filesystem storage) or a 302 to a presigned URL (S3); a teacher (cohort:view) may fetch her cohorts' learners' editions",
        security,
        params: DownloadParams,
      },
    },
    async (request, reply) => {
      const row = await findReport(database.db, request.params.id);
      if (!row) throw new ApiError('REPORT_NOT_FOUND', `no report with id ${request.params.id}`);
      const principal = principalOfRequest(request);
      await assertLearnerAccess(database.db, principal, row.user_id);
      if (row.edition === 'teacher' && !hasScope(principal, 'analysis:run')) {
        throw new ApiError('INSUFFICIENT_SCOPE', "the teacher's edition needs analysis:run");
      }
      if (store.presignedUrl) {
        return reply.redirect(await store.presignedUrl(row.storage_key, config.reports.urlTtlSeconds), 302);
      }
      const format = row.format as ReportFormat;
      try {
        const body = await store.get(row.storage_key);
        const filename = `report-${row.user_id}-${row.week_start}-${row.edition}.${format}`.replace(
          /[^\w.-]/g,
          '_',
        );
        return reply
          .type(CONTENT_TYPES[format])
          .header('content-disposition', `inline; filename="${filename}"`)
          .header('cache-control', 'private, no-store')
          .send(body);
      } catch (err) {
        if (err instanceof ReportNotFoundError) {
          throw new ApiError(
            'REPORT_NOT_FOUND',
            `report ${request.params.id} is recorded but its file is missing`,
          );
        }
        throw err;
      }
    },
  );
};
