// Job routes: start a run (admin) and list runs. A run started here executes in this process, on
// the database the server holds (on the embedded database, the only process that may open it).
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { DayInput, Id, BEARER as security } from '../api/schemas.js';
import { dateInput } from '../api/time-input.js';
import { InvalidInputError } from '../user-error.js';
import { runDays } from './dates.js';
import { JOBS, jobShard } from './registry.js';
import { runJob } from './runner.js';
import { findRun, listRuns } from './runs.js';
import type { Shard } from './shard.js';

function toJobRun<R extends { started_at: Date; finished_at: Date | null }>(r: R) {
  return { ...r, started_at: r.started_at.toISOString(), finished_at: r.finished_at?.toISOString() ?? null };
}

const RunBody = Type.Object(
  {
    date: Type.Optional(DayInput()),
    from: Type.Optional(DayInput()),
    to: Type.Optional(DayInput()),
    dry_run: Type.Optional(Type.Boolean()),
    shard: Type.Optional(Type.String({ pattern: '^\\d+/\\d+$', description: 'i/n, 0-based' })),
    users: Type.Optional(
      Type.Array(Id('a learner'), {
        minItems: 1,
        maxItems: 1000,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);

const JobRun = Type.Object({
  run_id: Type.String(),
  job: Type.String(),
  params: Type.Unknown(),
  status: Type.String(),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  stats: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
});

export const jobRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database, metrics }) => {
  app.post(
    '/jobs/:name/run',
    {
      preHandler: requireScope('admin'),
      schema: {
        tags: ['jobs'],
        summary: 'Start a job run; 202 with its run id (follow it with GET /jobs/runs)',
        security,
        params: Type.Object({ name: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        body: Type.Optional(RunBody),
        response: { 202: Type.Object({ run_id: Type.String() }) },
      },
    },
    async (request, reply) => {
      const job = JOBS.find((j) => j.name === request.params.name);
      if (!job) {
        throw new ApiError('UNKNOWN_JOB', `no job named ${request.params.name}`, {
          jobs: JOBS.map((j) => j.name),
        });
      }
      const body = request.body ?? {};
      for (const field of ['date', 'from', 'to'] as const) {
        const value = body[field];
        if (value !== undefined) dateInput(value, field, 'body', config);
      }
      let days: string[];
      let shard: Shard;
      try {
        days = runDays(body, job.defaultDate(new Date()), job.period);
        shard = jobShard(job, body.shard);
      } catch (err) {
        if (err instanceof InvalidInputError) throw new ApiError('INVALID_INPUT', err.message);
        throw err;
      }
      const options = { dryRun: body.dry_run, shard, users: body.users, metrics };
      const runId = await new Promise<string>((resolve, reject) => {
        let started: string | undefined;
        const onStart = (id: string) => {
          started = id;
          resolve(id);
        };
        runJob(database.db, job, days, config, { ...options, onStart }).then(
          (outcome) =>
            request.log[outcome.status === 'succeeded' ? 'info' : 'error'](
              { runId: outcome.runId, status: outcome.status },
              outcome.summary,
            ),
          (err: unknown) => {
            // Before the start this request answers with the error; after it, only the log can say.
            if (started === undefined) reject(err);
            else
              request.log.error(
                { err, runId: started },
                `${job.name} run ${started} failed: ${(err as Error).message}`,
              );
          },
        );
      });
      return reply.status(202).send({ run_id: runId });
    },
  );

  app.get(
    '/jobs/runs',
    {
      preHandler: requireScope('admin'),
      schema: {
        tags: ['jobs'],
        summary: 'Job runs, newest first',
        security,
        querystring: Type.Object(
          {
            job: Type.Optional(Id('a job name')),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ runs: Type.Array(JobRun) }) },
      },
    },
    async (request) => {
      const { job, limit } = request.query;
      const rows = await listRuns(database.db, { ...(job ? { job } : {}), limit });
      return { runs: rows.map(toJobRun) };
    },
  );

  app.get(
    '/jobs/runs/:run_id',
    {
      preHandler: requireScope('admin'),
      schema: {
        tags: ['jobs'],
        summary: 'One job run (poll it to follow a run started with POST /jobs/{name}/run)',
        security,
        params: Type.Object(
          { run_id: Type.String({ pattern: '^[0-9]{1,18}$' }) },
          { additionalProperties: false },
        ),
        response: { 200: JobRun },
      },
    },
    async (request) => {
      const row = await findRun(database.db, request.params.run_id);
      if (!row) throw new ApiError('NOT_FOUND', `no job run ${request.params.run_id}`);
      return toJobRun(row);
    },
  );
};
