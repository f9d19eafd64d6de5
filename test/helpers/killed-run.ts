// Runs in a child process on the embedded data directory given as the second argument: a kill needs
// a process of its own, and only one process may open the directory at a time.
//   kill <dir>:          starts a job run, prints its id and is SIGKILLed before recording an outcome;
//   reopen <dir> <id>:   opens the directory again and prints, as JSON, that run's row and what the
//                        lost-run sweep finds for a run started by this (live) process.
import { openEmbedded } from '../../src/db/connection.js';
import { migrate } from '../../src/db/migrator.js';
import { failLostRuns } from '../../src/jobs/runner.js';

const [mode, dir, runId] = process.argv.slice(2);
const database = await openEmbedded(dir!, 'job run');
const startRun = () =>
  database.db
    .insertInto('job_run')
    .values({ job: 'detect-inactivity', params: '{}', status: 'running', stats: '{}' })
    .returning('run_id')
    .executeTakeFirstOrThrow();
if (mode === 'kill') {
  await migrate(database);
  const { run_id } = await startRun();
  process.stdout.write(`${run_id}\n`, () => process.kill(process.pid, 'SIGKILL'));
} else {
  const row = await database.db
    .selectFrom('job_run')
    .selectAll()
    .where('run_id', '=', runId!)
    .executeTakeFirst();
  await startRun();
  const swept = await failLostRuns(database.db);
  await database.close();
  process.stdout.write(`${JSON.stringify({ row, swept })}\n`, () => process.exit(0));
}
