// `seedtest serve`: the HTTP API on the configured port, until SIGTERM/SIGINT.
import type { Command } from 'commander';
import { openThetaQueue } from '../ability/queue.js';
import { assertAuthKey } from '../api/auth.js';
import { buildServer, installShutdownHandlers, startServer } from '../api/server.js';
import type { Config } from '../config.js';
import { loadConfigWith } from '../config.js';
import { announcePort, type Database } from '../db/connection.js';
import { startScheduler } from '../jobs/scheduler.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { openQueue } from '../queue/boss.js';
import { openForServing } from './database.js';
import { environmentHelp } from './env-help.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .option('--port <port>', 'the port to listen on (PORT; 0 = any free port)')
    .option('--host <host>', 'the address to listen on (HOST)')
    .addHelpText('after', environmentHelp())
    .action(async (o: { port?: string; host?: string }) => {
      const config = loadConfigWith({
        PORT: { flag: '--port', value: o.port },
        HOST: { flag: '--host', value: o.host },
      });
      // Before the database opens and the queue starts: refused at once, nothing to stop.
      assertAuthKey(config.auth);
      const logger = createLogger(config.logLevel);
      if (config.rIrtBaseUrl)
        logger.info('R_IRT_BASE_URL is set and ignored: the IRT engine runs in-process');
      const database = await openForServing(config, 'serve', logger);
      try {
        await serveApi(config, database, logger);
      } catch (err) {
        await database.close();
        throw err;
      }
    });
}

/** Serves the API on an open, current database until SIGTERM/SIGINT; returns the address. */
export async function serveApi(config: Config, database: Database, logger: Logger): Promise<string> {
  const metrics = createMetrics();
  // The scheduler runs by default on the embedded database (one machine runs everything); on a
  // server it is off unless ENABLE_SCHEDULER says so (Kubernetes CronJobs do the scheduling there).
  const schedule = config.enableScheduler ?? database.kind === 'embedded';
  const queue = config.enableIrtOnlineUpdate || schedule ? await openQueue(database, logger) : undefined;
  // Completions enqueue θ updates through the hook; this process also consumes them unless
  // THETA_WORKER_IN_API=false leaves that to a `seedtest worker`.
  const theta =
    queue && config.enableIrtOnlineUpdate
      ? await openThetaQueue({ database, logger, metrics, lookbackDays: config.mirt.lookbackDays, queue })
      : undefined;
  if (theta && config.thetaWorkerInApi) await theta.startWorker();
  const scheduler =
    queue && schedule
      ? await startScheduler({ queue, database, config, logger, metrics, work: true })
      : undefined;
  // No new scheduled runs, the θ updates in flight finish, then the queue stops: before the
  // database closes, and when the server cannot be built (their timers would keep the process up).
  const stopWorkers = async () => {
    await scheduler?.stop();
    theta?.stop();
    await queue?.stop();
  };
  let app: ReturnType<typeof buildServer>;
  try {
    app = buildServer({
      config,
      database,
      logger,
      metrics,
      onSessionCompleted:
        theta && (async (userId, sessionId) => void (await theta.enqueue(userId, sessionId))),
    });
  } catch (err) {
    await stopWorkers();
    throw err;
  }
  app.addHook('onClose', stopWorkers);
  let address: string;
  try {
    address = await startServer(app, config);
  } catch (err) {
    await app.close();
    throw err;
  }
  // The bound port (PORT=0 picks a free one), for CLI commands that hand their work to this process.
  if (database.kind === 'embedded') announcePort(config.dataDir, Number(new URL(address).port));
  installShutdownHandlers(app, database, logger);
  logger.info(
    {
      address,
      database: database.kind === 'embedded' ? `${config.dataDir}/db` : 'DATABASE_URL',
      thetaUpdates: !theta
        ? 'off'
        : config.thetaWorkerInApi
          ? 'queued and worked here'
          : 'queued for a worker',
    },
    `serving the API at ${address}/api/seedtest (OpenAPI: ${address}/docs)`,
  );
  return address;
}
