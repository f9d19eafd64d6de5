// `seedtest k8s`: writes the Kubernetes manifests (src/deploy/k8s.ts) generated from the job
// registry and the Grafana dashboards (src/deploy/grafana.ts), removes generated files that no
// longer have a source (a job taken out of the registry), or with --check only compares and exits 1
// when a directory differs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { GENERATED_DESCRIPTION, renderDashboards } from '../deploy/grafana.js';
import {
  DEFAULT_IMAGE_REPOSITORY,
  DEFAULT_NAMESPACE,
  DEFAULT_RUNBOOK_URL,
  GENERATED_HEADER,
  indexedJob,
  renderManifests,
  toYaml,
} from '../deploy/k8s.js';
import { findJob, JOBS } from '../jobs/registry.js';
import { InvalidInputError } from '../user-error.js';
import { VERSION } from '../version.js';

export const defaultImage = () => `${DEFAULT_IMAGE_REPOSITORY}:${VERSION}`;

export interface DirDiff {
  changed: string[];
  missing: string[];
  /** Generated files in the directory that the generator no longer produces. */
  stale: string[];
}

const isGeneratedFile = (content: string) =>
  content.startsWith(GENERATED_HEADER) || content.includes(GENERATED_DESCRIPTION);

/** How the generated files differ from a directory's. */
export function diffManifestDir(dir: string, files: ReadonlyMap<string, string>): DirDiff {
  const present = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(yaml|json)$/.test(f)) : [];
  const diff: DirDiff = { changed: [], missing: [], stale: [] };
  for (const [file, content] of files) {
    if (!present.includes(file)) diff.missing.push(file);
    else if (readFileSync(join(dir, file), 'utf8') !== content) diff.changed.push(file);
  }
  for (const file of present) {
    if (!files.has(file) && isGeneratedFile(readFileSync(join(dir, file), 'utf8'))) {
      diff.stale.push(file);
    }
  }
  return diff;
}

export function registerK8sCommand(program: Command): void {
  const k8s = program.command('k8s');
  k8s
    .command('indexed-job')
    .description(
      'print an Indexed Job that splits one run of a job over learners into shards (`--shard i/n`)',
    )
    .argument('<job>', `one of: ${JOBS.map((j) => j.name).join(', ')}`)
    .requiredOption('--shards <n>', 'number of shards (pods)', (v) => positiveInt(v, '--shards'))
    .option('--parallelism <n>', 'pods at once (default: all)', (v) => positiveInt(v, '--parallelism'))
    .option('--date <YYYY-MM-DD>', 'the day the run is for')
    .option('--from <YYYY-MM-DD>', 'backfill from this day')
    .option('--to <YYYY-MM-DD>', 'backfill to this day (inclusive)')
    .option('--dry-run', 'compute everything, write nothing')
    .option('--name <name>', 'the Job name (default: <job>-sharded)')
    .option('--image <repo:tag>', 'container image (default: seedtest-analytics:<version>)')
    .option('--namespace <name>', 'namespace', DEFAULT_NAMESPACE)
    .action(
      (
        name: string,
        o: {
          shards: number;
          parallelism?: number;
          date?: string;
          from?: string;
          to?: string;
          dryRun?: boolean;
          name?: string;
          image?: string;
          namespace: string;
        },
      ) => {
        const runArgs = [
          ...(o.date ? ['--date', o.date] : []),
          ...(o.from ? ['--from', o.from] : []),
          ...(o.to ? ['--to', o.to] : []),
          ...(o.dryRun ? ['--dry-run'] : []),
        ];
        const manifest = indexedJob({
          image: o.image ?? defaultImage(),
          namespace: o.namespace,
          job: findJob(name),
          shards: o.shards,
          parallelism: o.parallelism,
          runArgs,
          name: o.name,
        });
        process.stdout.write(toYaml(manifest));
      },
    );
  k8s
    .option('--out <dir>', 'output directory', 'deploy/k8s')
    .option(
      '--image <repo:tag>',
      'container image, pinned by tag or digest (default: seedtest-analytics:<version>)',
    )
    .option('--namespace <name>', 'namespace', DEFAULT_NAMESPACE)
    .option('--api-replicas <n>', 'API replicas', (v) => positiveInt(v, '--api-replicas'), 2)
    .option(
      '--worker-replicas <n>',
      'θ-update worker replicas',
      (v) => positiveInt(v, '--worker-replicas'),
      1,
    )
    .option('--dashboards-out <dir>', 'output directory of the Grafana dashboards (JSON)', 'deploy/grafana')
    .option(
      '--runbook-url <url>',
      'where docs/operations.md is published: the alerts link to its sections',
      DEFAULT_RUNBOOK_URL,
    )
    .option('--check', 'write nothing; exit 1 when a directory differs from what would be generated')
    .action(
      (o: {
        out: string;
        dashboardsOut: string;
        runbookUrl: string;
        image?: string;
        namespace: string;
        apiReplicas: number;
        workerReplicas: number;
        check?: boolean;
      }) => {
        const { scheduleOverrides } = loadConfig();
        for (const [job, cron] of Object.entries(scheduleOverrides)) {
          console.error(`seedtest k8s: schedule of ${job} overridden by the environment: "${cron}"`);
        }
        const outputs = [
          {
            dir: o.out,
            files: renderManifests({
              image: o.image ?? defaultImage(),
              namespace: o.namespace,
              jobs: JOBS,
              scheduleOverrides,
              apiReplicas: o.apiReplicas,
              workerReplicas: o.workerReplicas,
              runbookUrl: o.runbookUrl,
            }),
          },
          { dir: o.dashboardsOut, files: renderDashboards() },
        ].map((x) => ({ ...x, diff: diffManifestDir(x.dir, x.files) }));
        if (o.check) {
          let differs = false;
          for (const { dir, files, diff } of outputs) {
            const n = diff.changed.length + diff.missing.length + diff.stale.length;
            if (n === 0) console.log(`${dir} is current (${files.size} files)`);
            differs ||= n > 0;
            for (const [what, list] of Object.entries(diff)) {
              for (const f of list as string[]) console.log(`${what}: ${join(dir, f)}`);
            }
          }
          if (differs) {
            console.log('run `npm run k8s` to regenerate');
            process.exitCode = 1;
          }
          return;
        }
        for (const { dir, files, diff } of outputs) {
          mkdirSync(dir, { recursive: true });
          for (const [file, content] of files) writeFileSync(join(dir, file), content);
          for (const file of diff.stale) rmSync(join(dir, file));
          console.log(
            `wrote ${files.size} files to ${dir} (${diff.changed.length + diff.missing.length} changed` +
              `${diff.stale.length ? `, removed ${diff.stale.join(', ')}` : ''})`,
          );
        }
        console.log(`apply with kubectl apply -k ${o.out}`);
      },
    );
}

function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError(`${what} must be a positive integer, got "${value}"`);
  return n;
}
