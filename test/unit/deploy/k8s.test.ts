import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { defaultImage, diffManifestDir } from '../../../src/cli/k8s.js';
import { cronPeriodSeconds } from '../../../src/deploy/cron.js';
import { dashboardQueries, dashboards, renderDashboards } from '../../../src/deploy/grafana.js';
import {
  API_NAME,
  checkImage,
  DEFAULT_NAMESPACE,
  DEFAULT_RUNBOOK_URL,
  GENERATED_HEADER,
  generateManifests,
  indexedJob,
  type K8sObject,
  ManifestError,
  promDuration,
  renderManifests,
  SECRETS,
  toYaml,
  WORKER_NAME,
} from '../../../src/deploy/k8s.js';
import { metricNamesIn } from '../../../src/deploy/promql.js';
import { findJob, JOBS } from '../../../src/jobs/registry.js';
import { InvalidInputError } from '../../../src/user-error.js';
import { unknownFields, validateSchema } from './schema.js';

const DIR = 'deploy/k8s';
const defaults = () => ({ image: defaultImage(), jobs: JOBS });

/** The checked-in manifests as `kubectl apply -k` reads them: the kustomization's files, in order. */
function checkedIn(): Array<{ file: string; obj: Record<string, unknown> }> {
  const out: Array<{ file: string; obj: Record<string, unknown> }> = [];
  const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0].toJS();
  for (const file of kustomization.resources as string[]) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
      const obj = doc.toJS() as Record<string, unknown> | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

const objects = () => checkedIn().map((d) => d.obj as unknown as K8sObject);
const label = (o: { kind?: unknown; metadata?: { name?: unknown } }) => `${o.kind}/${o.metadata?.name}`;

function podSpecs(): Array<{ owner: string; spec: IPodSpec }> {
  const out: Array<{ owner: string; spec: IPodSpec }> = [];
  for (const o of objects()) {
    if (o.kind === 'Deployment') out.push({ owner: label(o), spec: o.spec!.template.spec! });
    if (o.kind === 'CronJob') out.push({ owner: label(o), spec: o.spec!.jobTemplate.spec!.template.spec! });
  }
  return out;
}

function containers(): Array<{ owner: string; init: boolean; c: IContainer; pod: IPodSpec }> {
  return podSpecs().flatMap(({ owner, spec }) => [
    ...(spec.initContainers ?? []).map((c) => ({ owner, init: true, c, pod: spec })),
    ...spec.containers.map((c) => ({ owner, init: false, c, pod: spec })),
  ]);
}

const cronJobs = () => objects().filter((o): o is ICronJob => o.kind === 'CronJob');

describe('deploy/k8s is what `seedtest k8s` generates', () => {
  it('has exactly the generated files, byte for byte (run `npm run k8s` after changing the registry)', () => {
    const files = renderManifests(defaults());
    const diff = diffManifestDir(DIR, files);
    assert.deepEqual(diff, { changed: [], missing: [], stale: [] });
    const present = readdirSync(DIR).sort();
    assert.deepEqual(present, [...files.keys()].sort(), 'no hand-written files beside the generated ones');
    for (const file of present) assert.ok(readFileSync(join(DIR, file), 'utf8').startsWith(GENERATED_HEADER));
  });

  it('the kustomization lists every other file', () => {
    const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0].toJS();
    assert.equal(k.kind, 'Kustomization');
    assert.deepEqual(
      [...k.resources].sort(),
      readdirSync(DIR)
        .filter((f) => f !== 'kustomization.yaml')
        .sort(),
    );
  });

  it('the YAML reads back as the generated objects', () => {
    const generated = generateManifests(defaults()).flatMap((f) => f.objects);
    assert.deepEqual(objects(), JSON.parse(JSON.stringify(generated)));
  });
});

describe('every manifest validates against the Kubernetes API schemas', () => {
  it('validates with kubernetes-models (and the Prometheus Operator models)', () => {
    const kinds = new Set<string>();
    for (const o of objects()) {
      assert.doesNotThrow(() => validateSchema(o), label(o));
      kinds.add(String(o.kind));
    }
    for (const kind of [
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Service',
      'CronJob',
      'ServiceMonitor',
      'PodMonitor',
      'PrometheusRule',
    ]) {
      assert.ok(kinds.has(kind), `a ${kind} is generated`);
    }
  });

  it('has no field the schemas do not declare', () => {
    for (const o of objects()) assert.deepEqual(unknownFields(o), [], label(o));
  });

  it('the strict check rejects misspelled fields that the schema validation alone accepts', () => {
    const cron = structuredClone(cronJobs()[0]) as unknown as Record<string, unknown> & ICronJob;
    const spec = cron.spec as unknown as Record<string, unknown>;
    spec.concurencyPolicy = 'Forbid';
    const c = cron.spec!.jobTemplate.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>;
    (c.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true;
    c.resource = { limits: { cpu: '1' } };
    assert.doesNotThrow(() => validateSchema(cron), 'kubernetes-models alone lets them through');
    assert.deepEqual(unknownFields(cron).sort(), [
      '/spec/concurencyPolicy',
      '/spec/jobTemplate/spec/template/spec/containers/0/resource',
      '/spec/jobTemplate/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem',
    ]);
    // … in the CRD-based models too.
    const rule = structuredClone(objects().find((o) => o.kind === 'PrometheusRule')!) as unknown as {
      spec: { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    };
    rule.spec.groups[0].rules[0].fro = '5m';
    assert.deepEqual(unknownFields(rule as never), ['/spec/groups/0/rules/0/fro']);
    // Free-form maps (labels, annotations, ConfigMap data) are not unknown fields.
    const cm = structuredClone(objects().find((o) => o.kind === 'ConfigMap')!) as unknown as {
      data: Record<string, string>;
      metadata: { labels: Record<string, string> };
    };
    cm.data.ANY_NEW_KEY = 'x';
    cm.metadata.labels['example.com/any'] = 'y';
    assert.deepEqual(unknownFields(cm as never), []);
  });

  it('the schema validation still catches wrong types and values', () => {
    const cron = structuredClone(cronJobs()[0]) as unknown as { spec: Record<string, unknown> };
    cron.spec.concurrencyPolicy = 'Sometimes';
    assert.throws(() => validateSchema(cron as never));
  });
});

describe('jobs: one CronJob per registry job', () => {
  it('names, schedules and commands come from the registry', () => {
    const crons = cronJobs();
    assert.deepEqual(crons.map((c) => c.metadata!.name).sort(), JOBS.map((j) => j.name).sort());
    for (const job of JOBS) {
      const c = crons.find((x) => x.metadata!.name === job.name)!;
      assert.equal(c.spec!.schedule, job.schedule, job.name);
      const container = c.spec!.jobTemplate.spec!.template.spec!.containers[0];
      assert.deepEqual(container.args, ['job', 'run', job.name]);
    }
  });

  it('never overlap, give up, retry and keep history within bounds', () => {
    for (const c of cronJobs()) {
      const s = c.spec!;
      const job = s.jobTemplate.spec!;
      assert.equal(s.concurrencyPolicy, 'Forbid');
      assert.equal(s.timeZone, 'Etc/UTC');
      assert.ok(s.startingDeadlineSeconds! > 0);
      assert.ok(s.successfulJobsHistoryLimit! >= 1 && s.failedJobsHistoryLimit! >= 1);
      assert.ok(job.backoffLimit! >= 0 && job.activeDeadlineSeconds! > 0);
      assert.equal(job.template.spec!.restartPolicy, 'Never');
    }
  });

  it('the generator reads the job list it is given (no job name is built in)', () => {
    const jobs = [{ name: 'nightly-example', schedule: '30 0 * * *', description: 'an example' }];
    const files = generateManifests({ image: 'r/x:1', jobs });
    const crons = files.flatMap((f) => f.objects).filter((o) => o.kind === 'CronJob');
    assert.deepEqual(
      crons.map((c) => [c.metadata!.name, (c as ICronJob).spec!.schedule]),
      [['nightly-example', '30 0 * * *']],
    );
    const overridden = generateManifests({
      image: 'r/x:1',
      jobs,
      scheduleOverrides: { 'nightly-example': '45 6 * * *' },
    })
      .flatMap((f) => f.objects)
      .find((o): o is ICronJob => o.kind === 'CronJob')!;
    assert.equal(overridden.spec!.schedule, '45 6 * * *');
    assert.throws(
      () => generateManifests({ image: 'r/x:1', jobs, scheduleOverrides: { nope: '* * * * *' } }),
      ManifestError,
    );
    assert.throws(
      () => generateManifests({ image: 'r/x:1', jobs: [{ ...jobs[0], schedule: '61 * * * *' }] }),
      InvalidInputError,
    );
    assert.throws(
      () => generateManifests({ image: 'r/x:1', jobs: [{ ...jobs[0], name: 'Not_A_Label' }] }),
      ManifestError,
    );
  });
});

describe('an Indexed Job for a sharded run', () => {
  const job = findJob('generate-weekly-report');
  it('runs pod i as --shard i/n from the completion index, validated like the rest', () => {
    const j = indexedJob({ image: 'r/x:1', job, shards: 4, runArgs: ['--date', '2026-11-23'] });
    assert.doesNotThrow(() => validateSchema(j));
    assert.deepEqual(unknownFields(j), []);
    assert.equal(j.spec!.completionMode, 'Indexed');
    assert.equal(j.spec!.completions, 4);
    const c = j.spec!.template.spec!.containers[0];
    assert.deepEqual(c.args, ['job', 'run', job.name, '--shard', '$(SHARD_INDEX)/4', '--date', '2026-11-23']);
    const index = c.env!.find((e) => e.name === 'SHARD_INDEX')!;
    assert.equal(
      index.valueFrom!.fieldRef!.fieldPath,
      "metadata.annotations['batch.kubernetes.io/job-completion-index']",
    );
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.throws(() => indexedJob({ image: 'r/x:latest', job, shards: 2 }), ManifestError);
    assert.throws(() => indexedJob({ image: 'r/x:1', job, shards: 0 }), ManifestError);
  });

  it('is refused for a job that does not split over learners, with the reason', () => {
    for (const name of ['mirt-calibrate', 'aggregate-features-daily']) {
      assert.throws(
        () => indexedJob({ image: 'r/x:1', job: findJob(name), shards: 2 }),
        (err: Error) =>
          err instanceof InvalidInputError && err.message.startsWith(`${name} cannot be sharded: `),
      );
    }
  });

  it('quotes what a YAML 1.1 reader would turn into a date or a boolean', () => {
    const text = toYaml(indexedJob({ image: 'r/x:1', job, shards: 2, runArgs: ['--date', '2026-11-23'] }));
    assert.match(text, /- "2026-11-23"/);
    assert.match(toYaml({ v: ['on', 'yes', 'no'] }), /"on"[\s\S]*"yes"[\s\S]*"no"/);
  });
});

describe('containers', () => {
  it('every image is pinned, never `latest`', () => {
    assert.ok(containers().length > 0);
    for (const { owner, c } of containers()) {
      assert.ok(c.image, owner);
      assert.doesNotThrow(() => checkImage(c.image!), `${owner}: ${c.image}`);
      assert.doesNotMatch(c.image!, /:latest(@|$)/);
    }
    assert.throws(() => checkImage('seedtest-analytics:latest'), ManifestError);
    assert.throws(() => checkImage('registry:5000/seedtest-analytics'), ManifestError);
    assert.doesNotThrow(() => checkImage('registry:5000/seedtest-analytics:1.2.3'));
    assert.doesNotThrow(() => checkImage(`seedtest-analytics@sha256:${'a'.repeat(64)}`));
  });

  it('every container has requests and limits for cpu and memory', () => {
    for (const { owner, c } of containers()) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const r of ['cpu', 'memory'])
          assert.ok(c.resources?.[kind]?.[r], `${owner}/${c.name} ${kind}.${r}`);
      }
    }
  });

  it('runs as non-root on a read-only root filesystem without capabilities', () => {
    for (const { owner, c, pod } of containers()) {
      const what = `${owner}/${c.name}`;
      assert.equal(pod.securityContext?.runAsNonRoot, true, what);
      assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, what);
      assert.equal(c.securityContext?.runAsNonRoot, true, what);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, what);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, what);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], what);
      assert.ok(
        c.volumeMounts?.some((m) => m.mountPath === '/tmp'),
        `${what}: /tmp is writable`,
      );
    }
  });

  it('serving containers have liveness and readiness probes on their named port', () => {
    const serving = containers().filter(({ c }) => c.ports?.length);
    assert.ok(serving.length > 0);
    for (const { owner, c, init } of serving) {
      assert.equal(init, false);
      assert.ok(c.livenessProbe?.httpGet, `${owner}: liveness`);
      assert.ok(c.readinessProbe?.httpGet, `${owner}: readiness`);
      assert.ok(c.ports!.some((p) => p.name === c.readinessProbe!.httpGet!.port));
    }
    const api = containers().find(({ owner, init }) => owner === `Deployment/${API_NAME}` && !init)!;
    assert.equal(api.c.livenessProbe!.httpGet!.path, '/health');
    assert.equal(api.c.readinessProbe!.httpGet!.path, '/ready');
    assert.ok(api.pod.terminationGracePeriodSeconds! > 25, 'longer than the server shutdown grace');
  });

  it('the API keeps the seed’s names: Deployment seedtest-api labelled app: seedtest-api, Service port http', () => {
    const all = objects();
    const dep = all.find((o) => o.kind === 'Deployment' && o.metadata!.name === API_NAME)!;
    assert.equal(dep.metadata!.labels!.app, API_NAME);
    const svc = all.find((o): o is IService => o.kind === 'Service' && o.metadata!.name === API_NAME)!;
    assert.ok(svc.spec!.ports!.some((p) => p.name === 'http'));
    for (const o of all) assert.equal(o.metadata!.namespace ?? o.metadata!.name, DEFAULT_NAMESPACE, label(o));
  });

  it('the seed’s ServiceMonitor (app: seedtest-api, port metrics) finds the API’s metrics, and so does ours', () => {
    const all = objects();
    const services = all.filter((o): o is IService => o.kind === 'Service');
    /** The container port a ServiceMonitor endpoint reaches, through the Services its selector picks. */
    const reached = (matchLabels: Record<string, string>, port: string) =>
      services
        .filter((s) => Object.entries(matchLabels).every(([k, v]) => s.metadata!.labels?.[k] === v))
        .flatMap((s) => s.spec!.ports!.filter((p) => p.name === port))
        .map((p) => p.targetPort);
    assert.deepEqual(reached({ app: API_NAME }, 'metrics'), ['http'], 'the seed’s monitor');
    const ours = all.filter((o): o is IServiceMonitor => o.kind === 'ServiceMonitor');
    assert.equal(ours.length, 1);
    for (const e of ours[0].spec.endpoints) {
      assert.equal(e.port, 'metrics');
      assert.deepEqual(reached(ours[0].spec.selector.matchLabels!, e.port!), ['http']);
    }
    // `http` stays: clients and the probes use it; the metrics port forwards to the same container port.
    const api = containers().find(({ owner, init }) => owner === `Deployment/${API_NAME}` && !init)!;
    assert.deepEqual(
      api.c.ports!.map((p) => p.name),
      ['http'],
    );
  });

  it('reads the secrets and config maps of the seed by their names and keys', () => {
    const text = JSON.stringify(objects());
    for (const s of Object.values(SECRETS)) assert.ok(text.includes(`"name":"${s.name}"`), s.name);
    const api = containers().find(
      ({ owner, c }) => owner === `Deployment/${API_NAME}` && c.name === 'api',
    )!.c;
    const env = Object.fromEntries(api.env!.map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    assert.deepEqual(env.DATABASE_URL, { name: 'seedtest-db-credentials', key: 'DATABASE_URL' });
    assert.deepEqual(env.R_IRT_INTERNAL_TOKEN, { name: 'r-irt-credentials', key: 'token', optional: true });
    const cms = Object.fromEntries(
      objects()
        .filter((o) => o.kind === 'ConfigMap')
        .map((o) => [o.metadata!.name, (o as { data: Record<string, string> }).data]),
    );
    assert.ok('S3_BUCKET' in cms['report-config']);
    assert.equal(cms['irt-config'].ENABLE_IRT_ONLINE_UPDATE, 'true');
  });

  it('API pods only queue θ updates; the worker Deployment consumes them', () => {
    const envOf = (owner: string) =>
      containers()
        .find((x) => x.owner === owner && !x.init)!
        .c.env?.find((e) => e.name === 'THETA_WORKER_IN_API');
    assert.equal(envOf(`Deployment/${API_NAME}`)?.value, 'false');
    assert.equal(envOf(`Deployment/${WORKER_NAME}`), undefined);
    const worker = containers().find((x) => x.owner === `Deployment/${WORKER_NAME}` && !x.init)!.c;
    assert.deepEqual(worker.args, ['worker']);
  });
});

describe('alerts', () => {
  const rules = () =>
    objects()
      .filter((o): o is IPrometheusRule => o.kind === 'PrometheusRule')
      .flatMap((o) => o.spec.groups ?? [])
      .flatMap((g) => g.rules ?? [])
      .map((r) => ({ ...r, expr: String(r.expr), labels: r.labels ?? {}, annotations: r.annotations ?? {} }));

  it('cover API down, 5xx ratio, job failure, θ queue backlog, anchors dropped by a calibration', () => {
    const names = new Set(rules().map((r) => r.alert));
    for (const a of [
      'SeedtestApiDown',
      'SeedtestApiHigh5xxRatio',
      'SeedtestJobFailed',
      'SeedtestThetaQueueBacklog',
      'SeedtestIrtAnchorsDropped',
    ]) {
      assert.ok(names.has(a), a);
    }
  });

  it('every registry job has a "not succeeded within its period plus slack" alert', () => {
    for (const job of JOBS) {
      const stale = rules().find((r) => r.alert === 'SeedtestJobNotSucceeded' && r.labels.job === job.name);
      assert.ok(stale, job.name);
      const threshold = Number(/> (\d+)$/.exec(stale.expr)![1]);
      const period = cronPeriodSeconds(job.schedule);
      assert.ok(threshold > period && threshold < period + 86400, `${job.name}: ${threshold} vs ${period}`);
    }
  });

  it('every alert carries summary, description and a runbook_url to a section of docs/operations.md', () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const anchors = new Set(
      [...readFileSync('docs/operations.md', 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])),
    );
    for (const r of rules()) {
      assert.ok(r.annotations.summary, `${r.alert}: summary`);
      assert.ok(r.annotations.description, `${r.alert}: description`);
      assert.equal(r.annotations.runbook, undefined, `${r.alert}: runbook_url, the conventional name`);
    }
    const links = new Set(rules().map((r) => r.annotations.runbook_url));
    assert.ok(links.size > 3);
    for (const link of links) {
      const url = new URL(link);
      assert.equal(url.protocol, 'https:', link);
      assert.equal(`${url.origin}${url.pathname}`, DEFAULT_RUNBOOK_URL);
      assert.ok(anchors.has(url.hash.slice(1)), `${link}: no such heading in docs/operations.md`);
    }
    const moved = generateManifests({ ...defaults(), runbookUrl: 'https://docs.example.org/ops.html' })
      .flatMap((f) => f.objects)
      .filter((o): o is IPrometheusRule => o.kind === 'PrometheusRule')
      .flatMap((o) => o.spec.groups!.flatMap((g) => g.rules!));
    assert.ok(
      moved.every((r) => r.annotations!.runbook_url!.startsWith('https://docs.example.org/ops.html#')),
    );
    assert.throws(
      () => generateManifests({ ...defaults(), runbookUrl: 'docs/operations.md' }),
      ManifestError,
    );
  });

  it('reads the metric names of the expressions (the live /metrics test checks them)', () => {
    assert.deepEqual(
      [...metricNamesIn('sum by (job) (increase(seedtest_job_runs_total{status!="succeeded"}[1h])) > 0')],
      ['seedtest_job_runs_total'],
    );
    assert.deepEqual(
      [
        ...metricNamesIn(
          'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a="b"}[5m]))) > 1e3 or absent(up{job="a"}) unless on (job) y offset 5m',
        ),
      ].sort(),
      ['up', 'x_bucket', 'y'],
    );
  });
});

describe('Grafana dashboards', () => {
  const GRAFANA_DIR = 'deploy/grafana';

  it('deploy/grafana holds exactly the generated dashboards (run `npm run k8s` after changing them)', () => {
    const files = renderDashboards();
    assert.deepEqual(diffManifestDir(GRAFANA_DIR, files), { changed: [], missing: [], stale: [] });
    assert.deepEqual(readdirSync(GRAFANA_DIR).sort(), [...files.keys()].sort());
  });

  it('the same JSON is in a ConfigMap labelled for the Grafana sidecar', () => {
    const cms = objects().filter(
      (o): o is IConfigMap => o.kind === 'ConfigMap' && o.metadata!.labels?.grafana_dashboard === '1',
    );
    assert.equal(cms.length, 1);
    const files = renderDashboards();
    assert.deepEqual(Object.keys(cms[0].data!).sort(), [...files.keys()].sort());
    for (const [file, text] of files) assert.equal(cms[0].data![file], text, file);
    // A ConfigMap is limited to 1 MiB; the sidecar's annotation-less default folder is fine.
    assert.ok(JSON.stringify(cms[0]).length < 1024 * 1024);
  });

  it('cover the pipeline, online θ, the API and calibration, each readable', () => {
    const all = [...dashboards().values()];
    const uids = all.map((d) => d.uid);
    assert.deepEqual(uids, ['seedtest-pipeline', 'seedtest-theta', 'seedtest-api', 'seedtest-calibration']);
    const queries = all.flatMap(dashboardQueries).join('\n');
    for (const name of [
      'seedtest_job_last_success_timestamp_seconds',
      'seedtest_job_duration_seconds_sum',
      'seedtest_job_rows_written_total',
      'seedtest_job_runs_total',
      'seedtest_theta_queue_depth',
      'seedtest_theta_update_latency_seconds_bucket',
      'seedtest_theta_updates_total',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'seedtest_irt_calibration_loglik',
      'seedtest_irt_calibration_iterations',
      'seedtest_irt_calibration_items_excluded',
      'seedtest_irt_linking_constant',
    ]) {
      assert.ok(queries.includes(name), name);
    }
    for (const d of all) {
      assert.ok(d.title && d.description, d.uid);
      for (const p of d.panels) {
        const what = `${d.uid}: ${p.title}`;
        assert.ok(p.title && p.description, what);
        assert.ok(p.fieldConfig.defaults.unit, `${what}: unit`);
        assert.ok(p.targets.length > 0, what);
        for (const t of p.targets) {
          assert.ok(t.legendFormat, `${what}: legend`);
          assert.ok(metricNamesIn(t.expr).size > 0, `${what}: ${t.expr}`);
        }
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${what}: fits the grid`);
      }
      // No two panels overlap.
      const cells = new Set<string>();
      for (const p of d.panels) {
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${d.uid}: ${p.title} overlaps`);
            cells.add(`${x},${y}`);
          }
        }
      }
    }
  });
});

describe('cron periods', () => {
  it('is the longest gap between consecutive firings', () => {
    assert.equal(cronPeriodSeconds('15 1 * * *'), 86400);
    assert.equal(cronPeriodSeconds('0 4 * * 1'), 7 * 86400);
    assert.equal(cronPeriodSeconds('*/15 * * * *'), 900);
    assert.equal(cronPeriodSeconds('0 9-17 * * 1-5'), 64 * 3600); // Friday 17:00 → Monday 09:00
    assert.equal(cronPeriodSeconds('0 0 1 * *'), 31 * 86400);
    assert.equal(cronPeriodSeconds('0 0 * * 7'), 7 * 86400);
  });

  it('refuses expressions the scheduler refuses', () => {
    for (const bad of ['* * * *', '60 * * * *', '0 24 * * *', '0 0 0 * *', '5-1 * * * *', 'x * * * *']) {
      assert.throws(() => cronPeriodSeconds(bad), InvalidInputError, bad);
    }
    assert.throws(() => cronPeriodSeconds('0 0 30 2 *'), InvalidInputError, 'never fires');
  });

  it('formats durations as Prometheus does', () => {
    assert.equal(promDuration(102600), '1d4h30m');
    assert.equal(promDuration(600), '10m');
    assert.equal(promDuration(0), '0s');
  });
});
