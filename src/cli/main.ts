// The `seedtest` command. Each subcommand parses its options, opens what it needs and calls into
// the modules that do the work; configuration comes from src/config.ts only.
import { Command } from 'commander';
import { dashboardLink, localOrigin, mintToken } from '../api/tokens.js';
import { ConfigError, loadConfig } from '../config.js';
import { DataDirLockedError, openDatabase } from '../db/connection.js';
import { UnknownItemsError } from '../db/ingest.js';
import { migrate, SchemaBehindError } from '../db/migrator.js';
import { ManifestError } from '../deploy/k8s.js';
import { ImportError } from '../ingest/parse.js';
import { JobAlreadyRunningError } from '../jobs/runner.js';
import { registerCatCommands } from './cat.js';
import { CsvError } from './csv.js';
import { registerDataCommands } from './data.js';
import { registerIrtCommands } from './irt.js';
import { registerJobCommands } from './jobs.js';
import { registerK8sCommand } from './k8s.js';
import { registerReportCommand } from './report.js';
import { registerServeCommand } from './serve.js';
import { registerWorkerCommand } from './worker.js';

/** An error the user can act on: printed as one line, exit code 1, no stack trace. */
const USER_ERRORS = [
  RangeError,
  JobAlreadyRunningError,
  ConfigError,
  DataDirLockedError,
  SchemaBehindError,
  ImportError,
  CsvError,
  UnknownItemsError,
  ManifestError,
];

const program = new Command('seedtest')
  .description('Seedtest analytics: learner features, weekly KPIs, IRT calibration, reports')
  .showHelpAfterError();

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
  .option('--cohorts <ids>', 'comma-separated cohorts claim (with scope cohort:view: the teacher sees these)')
  .option(
    '--link',
    'print a dashboard sign-in link (http://HOST:PORT/dashboard/#token=…) instead of the token',
  )
  .action(
    async (o: {
      sub: string;
      scope: string;
      ttl: string;
      org?: string;
      cohorts?: string;
      link?: boolean;
    }) => {
      const { auth, host, port } = loadConfig();
      if (!auth.secret || auth.algorithm !== 'HS256') {
        throw new ConfigError(
          'seedtest token needs JWT_SECRET (HS256); tokens for RS256/ES256 come from your identity provider',
        );
      }
      const token = await mintToken({
        secret: auth.secret,
        sub: o.sub,
        scope: o.scope,
        ttl: o.ttl,
        issuer: auth.issuer,
        audience: auth.audience,
        orgId: o.org,
        cohorts: o.cohorts
          ?.split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      });
      console.log(o.link ? dashboardLink(localOrigin(host, port), token) : token);
    },
  );

registerIrtCommands(program);
registerCatCommands(program);
registerDataCommands(program);
registerJobCommands(program);
registerReportCommand(program);
registerServeCommand(program);
registerWorkerCommand(program);
registerK8sCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (USER_ERRORS.some((E) => err instanceof E)) {
    console.error(`seedtest: ${(err as Error).message}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
}
