// `seedtest worker`: the θ-update queue worker without the HTTP API, until SIGTERM/SIGINT (jobs in
// flight finish first), with its metrics on WORKER_METRICS_PORT. Several workers may run against one
// PostgreSQL server.
import { once } from 'node:events';
import type { Command } from 'commander';
import { startThetaWorker } from '../ability/queue.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import { openForServing } from './database.js';
import { environmentHelp } from './env-help.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .addHelpText(
      'after',
      environmentHelp([
        'DATABASE_URL',
        'DATA_DIR',
        'HOST',
        'WORKER_METRICS_PORT',
        'MIRT_LOOKBACK_DAYS',
        'LOG_LEVEL',
      ]),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const database = await openForServing(config, 'worker', logger);
      try {
        const metrics = createMetrics();
        // The listener first: a port already taken fails the command before any job is fetched.
        const scrape =
          config.workerMetricsPort > 0
            ? await startMetricsServer(metrics, config.host, config.workerMetricsPort).catch(
                (err: NodeJS.ErrnoException) => {
                  if (err.code !== 'EADDRINUSE') throw err;
                  throw new ConfigError(
                    `WORKER_METRICS_PORT ${config.workerMetricsPort} is in use on ${config.host} (another seedtest worker?): set WORKER_METRICS_PORT to a free port, or 0 for no metrics listener`,
                  );
                },
              )
            : undefined;
        try {
          const worker = await startThetaWorker({
            database,
            logger,
            metrics,
            lookbackDays: config.mirt.lookbackDays,
          });
          logger.info(
            { metrics: scrape ? `${scrape.address}/metrics` : 'off (WORKER_METRICS_PORT=0)' },
            'θ-update worker running; SIGTERM or SIGINT stops it',
          );
          const [signal] = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
          logger.info({ signal }, 'stopping the θ-update worker');
          await worker.stop();
        } finally {
          await scrape?.close();
        }
      } finally {
        await database.close();
      }
    });
}
