// The `seedtest` command. Each subcommand parses its options, opens what it needs and calls into
// the modules that do the work; configuration comes from src/config.ts only.
import { Command, CommanderError } from 'commander';
import { mintToken } from '../api/tokens.js';
import { ConfigError, launchedByNpm, loadConfig } from '../config.js';
import { DataDirLockedError, isUnavailable, openDatabase } from '../db/connection.js';
import { UnknownItemsError } from '../db/ingest.js';
import { migrate, SchemaBehindError } from '../db/migrator.js';
import { DemoError } from '../demo/pipeline.js';
import { ManifestError } from '../deploy/k8s.js';
import { ImportError } from '../ingest/parse.js';
import { JobAlreadyRunningError } from '../jobs/runner.js';
import { registerCatCommands } from './cat.js';
import { CsvError } from './csv.js';
import { registerDataCommands } from './data.js';
import { registerIrtCommands } from './irt.js';
import { registerJobCommands } from './jobs.js';
import { registerK8sCommand } from './k8s.js';
import { terminateWithParent } from './parent.js';
import { registerReportCommand } from './report.js';
import { registerServeCommand } from './serve.js';
import { registerWorkerCommand } from './worker.js';

/**
 * Runtime failures the user can act on (configuration, database, input files, a failed job): one
 * line, no stack trace, exit 1. An invalid command line (a RangeError from an argument or option
 * value, or the parser's refusal) exits 2.
 */
const RUNTIME_ERRORS = [
  JobAlreadyRunningError,
  ConfigError,
  DataDirLockedError,
  SchemaBehindError,
  ImportError,
  CsvError,
  UnknownItemsError,
  ManifestError,
  DemoError,
];

const program = new Command('seedtest')
  .description('Seedtest analytics: learner features, weekly KPIs, IRT calibration, reports')
  .showHelpAfterError()
  // Usage errors are thrown (and get exit code 2 below) instead of exiting with 1; subcommands inherit it.
  .exitOverride();

program
  .command('migrate')
  .description('apply pending database migrations (embedded database or DATABASE_URL)')
  .action(async () => {
    const config = loadConfig();
    const database = await openDatabase(config, 'migrate');
    try {
      const applied = await migrate(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is current: nothing to apply');
    } finally {
      await database.close();
    }
  });

program
  .command('token')
  .description('mint a development JWT from the configured HS256 secret (JWT_SECRET)')
  .requiredOption('--sub <user_id>', 'the subject (user id)')
  .option('--scope <scopes>', 'space-separated scopes', 'exam:write exam:read reports:view')
  .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 7d', '1h')
  .option('--org <org_id>', 'org_id claim')
  .action(async (o: { sub: string; scope: string; ttl: string; org?: string }) => {
    const { auth } = loadConfig();
    if (!auth.secret || auth.algorithm !== 'HS256') {
      throw new ConfigError(
        'seedtest token needs JWT_SECRET (HS256); tokens for RS256/ES256 come from your identity provider',
      );
    }
    console.log(
      await mintToken({
        secret: auth.secret,
        sub: o.sub,
        scope: o.scope,
        ttl: o.ttl,
        issuer: auth.issuer,
        audience: auth.audience,
        orgId: o.org,
      }),
    );
  });

registerIrtCommands(program);
registerCatCommands(program);
registerDataCommands(program);
registerJobCommands(program);
registerReportCommand(program);
registerServeCommand(program);
registerWorkerCommand(program);
registerK8sCommand(program);

if (launchedByNpm()) terminateWithParent();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // The parser has printed its message (or the help, exit code 0).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof RangeError) {
    console.error(`seedtest: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    console.error(
      RUNTIME_ERRORS.some((E) => err instanceof E)
        ? `seedtest: ${(err as Error).message}`
        : isUnavailable(err)
          ? `seedtest: the database is unavailable: ${(err as Error).message}`
          : err,
    );
    process.exitCode = 1;
  }
}
