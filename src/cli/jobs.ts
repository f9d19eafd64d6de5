// `seedtest job run|list`.
import type { Command } from 'commander';
import { mintToken } from '../api/tokens.js';
import { type Config, loadConfig } from '../config.js';
import { readDataDirLock } from '../db/connection.js';
import { nextFireTime } from '../jobs/cron.js';
import { runDays } from '../jobs/dates.js';
import { findJob, JOBS, jobShard } from '../jobs/registry.js';
import { failLostRuns, runJob } from '../jobs/runner.js';
import { lastRuns } from '../jobs/runs.js';
import { schedules } from '../jobs/scheduler.js';
import { createMetrics, pushMetrics } from '../observability/metrics.js';
import { UserError } from '../user-error.js';
import { withDatabase } from './database.js';
import { createProgress } from './progress.js';

interface RunFlags {
  date?: string;
  week?: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  shard?: string;
  user?: string[];
}

interface HandOff {
  /** The running server's API base URL. */
  base: string;
  pid: number;
  secret: string;
  issuer?: string;
  audience?: string;
}

/**
 * On the embedded database, while `seedtest serve` holds the data directory, a CLI run is handed
 * to that server (it alone may open the directory) when this process can mint an admin token for
 * it (HS256 secret). Otherwise opening the database refuses with a message saying what to do.
 */
function handOffTarget(config: Config): HandOff | undefined {
  if (config.databaseUrl || config.auth.algorithm !== 'HS256' || !config.auth.secret) return undefined;
  const holder = readDataDirLock(config.dataDir);
  if (!holder?.port) return undefined;
  return {
    base: `http://127.0.0.1:${holder.port}/api/seedtest`,
    pid: holder.pid,
    secret: config.auth.secret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  };
}

const POLL_MS = 500;

async function runOnServer(target: HandOff, name: string, o: RunFlags): Promise<string> {
  const token = await mintToken({
    secret: target.secret,
    sub: 'seedtest-cli',
    scope: 'admin',
    ttl: '1h',
    issuer: target.issuer,
    audience: target.audience,
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${target.base}${path}`, { ...init, headers });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.ok) return body;
    const error = (body.error ?? {}) as { code?: string; message?: string };
    throw new UserError(
      error.code === 'INVALID_TOKEN'
        ? `the seedtest serve holding the embedded database (pid ${target.pid}) does not accept tokens ` +
            'signed with this JWT_SECRET (seedtest demo signs with a secret of its own unless JWT_SECRET ' +
            'is set): start it with the same JWT_SECRET, or run the job through its API with its admin token'
        : `the seedtest serve holding the embedded database (pid ${target.pid}) refused the run: ` +
            `${error.code ?? res.status} ${error.message ?? ''}`.trimEnd(),
    );
  };
  const { run_id: runId } = await call(`/jobs/${name}/run`, {
    method: 'POST',
    body: JSON.stringify({
      ...(o.date ? { date: o.date } : {}),
      ...(o.from ? { from: o.from, to: o.to } : {}),
      ...(o.dryRun ? { dry_run: true } : {}),
      ...(o.shard ? { shard: o.shard } : {}),
      ...(o.user ? { users: o.user } : {}),
    }),
  });
  console.error(
    `the embedded database is held by seedtest serve (pid ${target.pid}): run ${runId} handed to it`,
  );
  for (;;) {
    const run = await call(`/jobs/runs/${runId}`);
    if (run.status !== 'running') {
      console.log(
        `${name} run ${runId} ${run.status}: ${JSON.stringify(run.stats)}${run.error ? ` (${run.error})` : ''}`,
      );
      return String(run.status);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function registerJobCommands(program: Command): void {
  const job = program.command('job');
  job
    .command('run')
    .description('run one job now')
    .argument('<name>', `one of: ${JOBS.map((j) => j.name).join(', ')}`)
    .option(
      '--date <YYYY-MM-DD>',
      'the day (or, for weekly jobs, a day of the week) the run is for; default: what the schedule implies',
    )
    .option('--week <YYYY-MM-DD>', 'for weekly jobs, the same as --date: a day of the week the run is for')
    .option('--from <YYYY-MM-DD>', 'backfill from this day (weekly jobs: from its week)')
    .option('--to <YYYY-MM-DD>', 'backfill to this day, inclusive')
    .option('--dry-run', 'compute everything, write nothing')
    .option(
      '--shard <i/n>',
      'only the learners of shard i of n (0-based, as an Indexed Job numbers its pods)',
    )
    .option('--user <id...>', 'only these learners (jobs over learners)')
    .action(async (name: string, o: RunFlags) => {
      const definition = findJob(name);
      const days = runDays(
        { ...o, date: o.date ?? o.week },
        definition.defaultDate(new Date()),
        definition.period,
        {
          date: o.date === undefined && o.week !== undefined ? '--week' : '--date',
          from: '--from',
          to: '--to',
        },
      );
      const shard = jobShard(definition, o.shard);
      const config = loadConfig();
      const metrics = createMetrics();
      const progress = createProgress();
      // SIGTERM (a pod being stopped) ends the run between units of work, recorded as failed.
      const abort = new AbortController();
      const stop = (signal: NodeJS.Signals) => abort.abort(signal);
      process.once('SIGTERM', stop).once('SIGINT', stop);
      try {
        const handOff = handOffTarget(config);
        if (handOff) {
          const status = await runOnServer(handOff, name, o);
          if (status !== 'succeeded') process.exitCode = 1;
          return;
        }
        const outcome = await withDatabase(config, `job run ${name}`, (database) =>
          runJob(database.db, definition, days, config, {
            dryRun: o.dryRun,
            shard,
            users: o.user,
            signal: abort.signal,
            metrics,
            onProgress: (date, done, total) => progress.update(`${name} ${date}`, done, total),
            onDay:
              days.length > 1
                ? (date) => progress.update(name, days.indexOf(date) + 1, days.length)
                : undefined,
          }),
        );
        progress.stop();
        console.log(outcome.summary);
        if (config.pushgatewayUrl) await pushMetrics(config.pushgatewayUrl, metrics, name);
        if (outcome.status !== 'succeeded') process.exitCode = 1;
      } finally {
        progress.stop();
        process.off('SIGTERM', stop).off('SIGINT', stop);
      }
    });
  job
    .command('list')
    .description('the jobs, their schedules, and their last run')
    .action(async () => {
      const config = loadConfig();
      const rows = await withDatabase(config, 'job list', async (database) => {
        await failLostRuns(database.db);
        return lastRuns(database.db);
      });
      const now = new Date();
      console.log(`${'JOB'.padEnd(26)} ${'SCHEDULE'.padEnd(12)} ${'NEXT RUN (UTC)'.padEnd(29)} LAST RUN`);
      for (const { job, cron } of schedules(config)) {
        const last = rows.find((r) => r.job === job);
        const lastText = last ? `${last.status} at ${last.started_at.toISOString()}` : 'never run';
        const next = nextFireTime(cron, now).toISOString();
        console.log(`${job.padEnd(26)} ${cron.expression.padEnd(12)} ${next.padEnd(29)} ${lastText}`);
      }
    });
}
