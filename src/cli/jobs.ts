// `seedtest job run|list`.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { runDays } from '../jobs/dates.js';
import { findJob, JOBS } from '../jobs/registry.js';
import { runJob } from '../jobs/runner.js';
import { withDatabase } from './database.js';

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('run and inspect the pipeline jobs');
  job
    .command('run')
    .description('run one job now')
    .argument('<name>', `one of: ${JOBS.map((j) => j.name).join(', ')}`)
    .option('--date <YYYY-MM-DD>', 'the day the run is for (default: what the schedule implies)')
    .option('--from <YYYY-MM-DD>', 'backfill from this day')
    .option('--to <YYYY-MM-DD>', 'backfill to this day (inclusive)')
    .option('--dry-run', 'compute everything, write nothing')
    .action(async (name: string, o: { date?: string; from?: string; to?: string; dryRun?: boolean }) => {
      const definition = findJob(name);
      const days = runDays(o, definition.defaultDate(new Date()));
      const config = loadConfig();
      const outcome = await withDatabase(config, `job run ${name}`, (database) =>
        runJob(database.db, definition, days, config, {
          dryRun: o.dryRun,
          onDay:
            days.length > 1 ? (date, r) => console.log(`  ${date}: rowsWritten=${r.rowsWritten}`) : undefined,
        }),
      );
      console.log(outcome.summary);
      if (outcome.status !== 'succeeded') process.exitCode = 1;
    });
  job
    .command('list')
    .description('the jobs, their schedules, and their last run')
    .action(async () => {
      const rows = await withDatabase(loadConfig(), 'job list', (database) =>
        database.db
          .selectFrom('job_run')
          .distinctOn('job')
          .select(['job', 'status', 'started_at', 'finished_at'])
          .orderBy('job')
          .orderBy('started_at', 'desc')
          .execute(),
      );
      for (const j of JOBS) {
        const last = rows.find((r) => r.job === j.name);
        const lastText = last ? `${last.status} at ${last.started_at.toISOString()}` : 'never run';
        console.log(`${j.name.padEnd(28)} ${j.schedule.padEnd(14)} ${lastText}`);
      }
    });
}
