// The pipeline page's data (docs/dashboard.md): each job's schedule, next slot, latest run and latest
// failure, the recent runs, and the θ-update queue. Runs are started by the job routes (jobs.ts,
// admin); reading is for operators (analysis:run).
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { THETA_QUEUE } from '../ability/queue.js';
import { requireScope } from '../api/auth.js';
import type { RouteDeps } from '../api/route-deps.js';
import { nextFireTime } from '../jobs/cron.js';
import { JOBS } from '../jobs/registry.js';
import { schedules } from '../jobs/scheduler.js';
import { jobRuns, queueStats, type RunRow, recentRuns } from './pipeline-reads.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

const Run = Type.Object({
  run_id: Type.String(),
  job: Type.String(),
  status: Type.Union(['running', 'succeeded', 'partial', 'failed'].map((s) => Type.Literal(s))),
  started_at: Time,
  finished_at: Nullable(Time),
  duration_ms: Nullable(Type.Number({ description: 'null while running' })),
  dry_run: Type.Boolean(),
  rows: Type.Number({ description: 'rows written over all tables (a dry run: would have written)' }),
  error: Nullable(Type.String()),
});

function toRun(r: RunRow) {
  return {
    ...r,
    started_at: r.started_at.toISOString(),
    finished_at: r.finished_at?.toISOString() ?? null,
    duration_ms: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    rows: Number(r.rows),
  };
}

export const pipelineRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database }) => {
  const crons = new Map(schedules(config).map((s) => [s.job, s.cron]));

  app.get(
    '/pipeline',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "The pipeline page: each job's schedule, next slot, latest run and failure; recent runs; the θ-update queue",
        security: [{ bearerAuth: [] }],
        querystring: Type.Object(
          {
            runs: Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'recent runs listed' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            now: Time,
            jobs: Type.Array(
              Type.Object({
                name: Type.String(),
                description: Type.String(),
                schedule: Type.String({ description: 'UTC cron, SCHEDULE_<JOB> applied' }),
                next_run: Time,
                last_run: Nullable(Run),
                last_failure: Nullable(Run),
                failures_7d: Type.Integer(),
              }),
            ),
            runs: Type.Array(Run),
            theta_queue: Nullable(
              Type.Object(
                {
                  depth: Type.Integer({ description: 'updates waiting' }),
                  active: Type.Integer(),
                  failed_24h: Type.Integer(),
                  completed_1h: Type.Integer(),
                  latency_p50_ms: Nullable(Type.Number()),
                  latency_p95_ms: Nullable(Type.Number()),
                  oldest_waiting_ms: Nullable(Type.Number()),
                },
                { description: 'null until a process has started the queue on this database' },
              ),
            ),
          }),
        },
      },
    },
    async (request) => {
      const now = new Date();
      const [perJob, runs, queue] = await Promise.all([
        jobRuns(
          database.db,
          JOBS.map((j) => j.name),
          now,
        ),
        recentRuns(database.db, request.query.runs),
        queueStats(database.db, THETA_QUEUE, now),
      ]);
      return {
        now: now.toISOString(),
        jobs: JOBS.map((job, i) => {
          const cron = crons.get(job.name)!;
          const r = perJob[i]!;
          return {
            name: job.name,
            description: job.description,
            schedule: cron.expression,
            next_run: nextFireTime(cron, now).toISOString(),
            last_run: r.last && toRun(r.last),
            last_failure: r.last_failure && toRun(r.last_failure),
            failures_7d: r.failures_7d,
          };
        }),
        runs: runs.map(toRun),
        theta_queue: queue,
      };
    },
  );
};
