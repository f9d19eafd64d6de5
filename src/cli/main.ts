// The `seedtest` command. Each subcommand parses its options, opens what it needs and calls into
// the modules that do the work; configuration comes from src/config.ts only. Only the module of the
// command being run is loaded (`seedtest --help` lists the catalogue below and loads none): the
// database drivers, the HTTP server and the report renderer take a second to import, a help text none.
import { Command, CommanderError } from 'commander';
import { ConfigError, launchedByNpm, loadConfig } from '../config.js';
import { isUnavailable } from '../db/unavailable.js';
import { InvalidInputError, UserError } from '../user-error.js';
import { VERSION } from '../version.js';
import { terminateWithParent } from './parent.js';

type Register = (program: Command) => void;

function registerMigrate(program: Command): void {
  program.command('migrate').action(async () => {
    const { openDatabase } = await import('../db/connection.js');
    const { migrate } = await import('../db/migrator.js');
    const config = loadConfig();
    const database = await openDatabase(config, 'migrate');
    try {
      const applied = await migrate(database);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is current: nothing to apply');
    } finally {
      await database.close();
    }
  });
}

function registerToken(program: Command): void {
  program
    .command('token')
    .requiredOption('--sub <user_id>', 'the subject (user id)')
    .option('--scope <scopes>', 'space-separated scopes', 'exam:write exam:read reports:view')
    .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 7d', '1h')
    .option('--org <org_id>', 'org_id claim')
    .option(
      '--cohorts <ids>',
      'comma-separated cohorts claim (with scope cohort:view: the teacher sees these)',
    )
    .option('--link', 'print a dashboard sign-in link (…/dashboard/#token=…) instead of the token')
    .action(
      async (o: {
        sub: string;
        scope: string;
        ttl: string;
        org?: string;
        cohorts?: string;
        link?: boolean;
      }) => {
        const { dashboardLink, localOrigin, mintToken } = await import('../api/tokens.js');
        const { auth, host, port, publicBaseUrl } = loadConfig();
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
        console.log(o.link ? dashboardLink(publicBaseUrl ?? localOrigin(host, port), token) : token);
      },
    );
}

/** The top-level commands: the line `seedtest --help` shows for each, and the module that defines it. */
const COMMANDS: Record<string, { description: string; load: () => Promise<Register> }> = {
  serve: {
    description: 'serve the HTTP API (embedded database by default, or DATABASE_URL)',
    load: async () => (await import('./serve.js')).registerServeCommand,
  },
  worker: {
    description: 'run the θ-update queue worker only (embedded database by default, or DATABASE_URL)',
    load: async () => (await import('./worker.js')).registerWorkerCommand,
  },
  demo: {
    description:
      'load a deterministic synthetic platform (learners, items with known parameters, weeks of sessions)',
    load: async () => (await import('./data.js')).registerDataCommands,
  },
  import: {
    description:
      'import sessions and attempts (exam_results JSON lines or a CSV of attempts) or cohort rosters (CSV)',
    load: async () => (await import('./data.js')).registerDataCommands,
  },
  job: {
    description: 'run and inspect the pipeline jobs',
    load: async () => (await import('./jobs.js')).registerJobCommands,
  },
  report: {
    description: 'render one weekly report to a local file (stores nothing; for template work)',
    load: async () => (await import('./report.js')).registerReportCommand,
  },
  irt: {
    description: 'IRT calibration, scoring, simulation and drift on CSV files',
    load: async () => (await import('./irt.js')).registerIrtCommands,
  },
  cat: {
    description: 'adaptive testing: simulate a test design on an item bank',
    load: async () => (await import('./cat.js')).registerCatCommands,
  },
  k8s: {
    description: 'write the Kubernetes manifests generated from the job registry (kustomize-ready)',
    load: async () => (await import('./k8s.js')).registerK8sCommand,
  },
  migrate: {
    description: 'apply pending database migrations (embedded database or DATABASE_URL)',
    load: async () => registerMigrate,
  },
  token: {
    description: 'mint a development JWT from the configured HS256 secret (JWT_SECRET)',
    load: async () => registerToken,
  },
};

const program = new Command('seedtest')
  .description('Seedtest analytics: learner features, weekly KPIs, IRT calibration, reports')
  .version(VERSION, '-V, --version', 'print the version')
  // The full help of `serve` or `worker` lists every environment variable: too much after a typo.
  .showHelpAfterError('(add --help for the options)')
  // Usage errors are thrown (and get exit code 2 below) instead of exiting with 1; subcommands inherit it.
  .exitOverride();

// The invoked command's module defines it in full (`seedtest help <command>` names one too); the
// others stay one-line entries of the help.
const [first, second] = process.argv.slice(2);
const invoked = COMMANDS[(first === 'help' ? second : first) ?? ''];
if (invoked) (await invoked.load())(program);
for (const [name, { description }] of Object.entries(COMMANDS)) {
  (program.commands.find((c) => c.name() === name) ?? program.command(name)).description(description);
}

if (launchedByNpm()) terminateWithParent();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // The parser has printed its message (or the help, exit code 0).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof InvalidInputError) {
    // An invalid argument or option value.
    console.error(`seedtest: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    // A failure the user can act on is one line; anything else is a bug and keeps its stack.
    console.error(
      err instanceof UserError
        ? `seedtest: ${(err as Error).message}`
        : isUnavailable(err)
          ? `seedtest: the database is unavailable: ${(err as Error).message}`
          : err,
    );
    process.exitCode = 1;
  }
}
