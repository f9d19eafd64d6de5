// The Kubernetes manifests of spec/operations.md, built as typed objects from the job registry:
// namespace and service account, ConfigMaps, the API Deployment/Service/PodDisruptionBudget, the
// θ-update worker Deployment, one CronJob per registered job, a ServiceMonitor, a PrometheusRule
// and the Grafana dashboards' ConfigMap (src/deploy/grafana.ts). Pure: it returns objects and YAML
// text; `seedtest k8s` writes them to deploy/k8s/.
//
// The types come from kubernetes-models (type-only imports, erased at build time), so the command
// needs nothing but `yaml` at run time; the tests validate every object against the models' schemas.

import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeploymentStrategy } from 'kubernetes-models/apps/v1/DeploymentStrategy';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvFromSource } from 'kubernetes-models/v1/EnvFromSource';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { stringify } from 'yaml';
import { DEFAULT_WORKER_METRICS_PORT } from '../config.js';
import { InvalidInputError, UserError } from '../user-error.js';
import { cronPeriodSeconds } from './cron.js';
import { dashboardsConfigMap } from './grafana.js';

export type K8sObject =
  | INamespace
  | IServiceAccount
  | IConfigMap
  | IDeployment
  | IService
  | IPodDisruptionBudget
  | ICronJob
  | IJob
  | IServiceMonitor
  | IPodMonitor
  | IPrometheusRule;

/** What the generator needs of a registered job (src/jobs/registry.ts JOBS entries fit). */
export interface JobEntry {
  name: string;
  schedule: string;
  description: string;
  /** Why the job does not split over learners (no Indexed Job for it); unset when it does. */
  unshardable?: string;
}

/** Per-job deployment settings; every job gets JOB_DEFAULTS unless `jobOverrides` says otherwise. */
export interface JobDeploySettings {
  resources: IResourceRequirements;
  backoffLimit: number;
  activeDeadlineSeconds: number;
  startingDeadlineSeconds: number;
  terminationGracePeriodSeconds: number;
}

export interface K8sOptions {
  /** REPO:TAG (or REPO@sha256:…); never `latest`. */
  image: string;
  namespace?: string;
  jobs: readonly JobEntry[];
  /** Job name → cron, replacing the registry's schedule (SCHEDULE_<JOB> in the environment). */
  scheduleOverrides?: Readonly<Record<string, string>>;
  jobOverrides?: Readonly<Record<string, Partial<JobDeploySettings>>>;
  apiReplicas?: number;
  workerReplicas?: number;
  /** Where docs/operations.md is published; each alert's runbook_url is a section of it. */
  runbookUrl?: string;
}

export interface ManifestFile {
  /** File name inside the output directory. */
  file: string;
  objects: K8sObject[];
}

/**
 * Anchors screened out by one calibration above which SeedtestIrtAnchorsDropped fires: |z| > 1.645
 * drops ~10 % of sound anchors by chance, 3 of a 30-anchor set (docs/irt.md → Anchor screening).
 */
const ANCHORS_DROPPED_ALERT = 3;
export const DEFAULT_NAMESPACE = 'seedtest';
export const DEFAULT_IMAGE_REPOSITORY = 'seedtest-analytics';
export const API_NAME = 'seedtest-api';
export const WORKER_NAME = 'seedtest-worker';
export const SERVICE_ACCOUNT = 'seedtest';
export const HTTP_PORT = 8080;
/**
 * The Service port named `metrics` that ServiceMonitors select (the seed's selects `app: seedtest-api`
 * on `metrics`). A Service may not list one port number twice; it forwards to the same container port.
 */
export const METRICS_SERVICE_PORT = 9100;
/** The default published runbook: the repository's docs/operations.md as its web view renders it. */
export const DEFAULT_RUNBOOK_URL =
  'https://git.example.com/seedtest/seedtest-analytics/blob/main/docs/operations.md';
/** The image's user (the `node` user of the official Node.js images). */
export const RUN_AS_USER = 1000;

/** Secrets the manifests reference (created by the operator, never generated: docs/operations.md). */
export const SECRETS = {
  database: { name: 'seedtest-db-credentials', keys: ['DATABASE_URL'] },
  jwt: { name: 'seedtest-jwt', keys: ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'JWT_ISS', 'JWT_AUD'] },
  rIrt: { name: 'r-irt-credentials', keys: ['token'] },
  s3: { name: 'aws-s3-credentials', keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] },
} as const;

/**
 * Series the alerts read that this program does not export itself, and where they come from.
 * Every other name in the PrometheusRule must be one the program's /metrics exports (a test holds it).
 */
export const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  up: 'Prometheus itself: 1 when the last scrape of a target succeeded',
  kube_job_failed: 'kube-state-metrics: a Job (CronJob run) whose Failed condition is true',
};

export const API_RESOURCES: IResourceRequirements = {
  requests: { cpu: '250m', memory: '384Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};
export const WORKER_RESOURCES: IResourceRequirements = {
  requests: { cpu: '250m', memory: '256Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};
const MIGRATE_RESOURCES: IResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '512Mi' },
};
export const JOB_DEFAULTS: JobDeploySettings = {
  resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
  backoffLimit: 2,
  activeDeadlineSeconds: 3 * 3600,
  startingDeadlineSeconds: 3600,
  terminationGracePeriodSeconds: 60,
};
/** The API's own shutdown grace (installShutdownHandlers) is 25 s; the preStop sleep comes first. */
const API_GRACE_SECONDS = 40;
const PRESTOP_SLEEP_SECONDS = 5;
const WORKER_GRACE_SECONDS = 40;
/** Added to a job's period (beside its deadlines) before it counts as not having succeeded. */
const STALE_MARGIN_SECONDS = 1800;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export class ManifestError extends UserError {
  override name = 'ManifestError';
}

/** Refuses an image without an explicit tag or digest, or tagged `latest`. */
export function checkImage(image: string): string {
  const digest = image.includes('@sha256:');
  const lastSegment = image.split('/').at(-1) ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : undefined;
  if (!digest && !tag) throw new ManifestError(`image "${image}" must be pinned: REPO:TAG or REPO@sha256:…`);
  if (tag?.split('@')[0] === 'latest')
    throw new ManifestError(`image "${image}": never deploy the tag "latest"`);
  return image;
}

/** 102600 → "1d4h30m" (the duration syntax of Prometheus and of the PrometheusRule CRD). */
export function promDuration(seconds: number): string {
  let rest = Math.round(seconds);
  let out = '';
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || '0s';
}

const commonLabels = (component: string) => ({
  'app.kubernetes.io/name': 'seedtest',
  'app.kubernetes.io/part-of': 'seedtest',
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/managed-by': 'seedtest-k8s',
});

const podSecurityContext: IPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

const containerSecurityContext: ISecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The root filesystem is read-only: DATA_DIR (local report files) and /tmp are scratch volumes. */
const volumes: IVolume[] = [
  { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
  { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
];
const volumeMounts: IVolumeMount[] = [
  { name: 'tmp', mountPath: '/tmp' },
  { name: 'data', mountPath: '/data' },
];

const CONFIG_MAPS = {
  general: 'seedtest-config',
  report: 'report-config',
  irt: 'irt-config',
} as const;

function configEnvFrom(): IEnvFromSource[] {
  return Object.values(CONFIG_MAPS).map((name) => ({ configMapRef: { name } }));
}

function secretEnv(name: string, secret: string, key: string, optional: boolean): IEnvVar {
  return {
    name,
    valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } },
  };
}

const databaseEnv = () => secretEnv('DATABASE_URL', SECRETS.database.name, 'DATABASE_URL', false);
/** Optional: with IAM roles for service accounts (or no S3) the keys are absent. */
const s3Env = () => [
  secretEnv('AWS_ACCESS_KEY_ID', SECRETS.s3.name, 'AWS_ACCESS_KEY_ID', true),
  secretEnv('AWS_SECRET_ACCESS_KEY', SECRETS.s3.name, 'AWS_SECRET_ACCESS_KEY', true),
];

function podSpec(spec: Omit<IPodSpec, 'securityContext' | 'volumes' | 'serviceAccountName'>): IPodSpec {
  return {
    serviceAccountName: SERVICE_ACCOUNT,
    automountServiceAccountToken: false,
    securityContext: podSecurityContext,
    ...spec,
    volumes,
  };
}

/** A Deployment named `name` whose pods carry `labels` and are selected by `selector`. */
function deploymentOf(
  ns: string,
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  replicas: number,
  pod: IPodSpec,
  strategy?: IDeploymentStrategy,
): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      ...(strategy ? { strategy } : {}),
      template: { metadata: { labels }, spec: pod },
    },
  };
}

/** Liveness on GET /health of the named port: restarted after 30 s without an answer. */
const healthLiveness = (port: string) => ({
  httpGet: { path: '/health', port },
  periodSeconds: 10,
  timeoutSeconds: 3,
  failureThreshold: 3,
});

function container(c: IContainer): IContainer {
  return {
    ...c,
    imagePullPolicy: 'IfNotPresent',
    securityContext: containerSecurityContext,
    volumeMounts,
  };
}

function namespaceObjects(ns: string): K8sObject[] {
  const namespace: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...commonLabels('namespace'),
        // Pod Security Admission: every pod here satisfies the restricted profile.
        'pod-security.kubernetes.io/enforce': 'restricted',
      },
    },
  };
  const account: IServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: SERVICE_ACCOUNT, namespace: ns, labels: commonLabels('service-account') },
    automountServiceAccountToken: false,
  };
  return [namespace, account];
}

function configMaps(ns: string): IConfigMap[] {
  const cm = (name: string, data: Record<string, string>): IConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels: commonLabels('config') },
    data,
  });
  return [
    cm(CONFIG_MAPS.general, {
      HOST: '0.0.0.0',
      PORT: String(HTTP_PORT),
      DATA_DIR: '/data',
      LOG_LEVEL: 'info',
      // The CronJobs are the schedule here; an in-process scheduler in each API replica would double it.
      ENABLE_SCHEDULER: 'false',
      PUBLIC_BASE_URL: 'https://seedtest.example.com',
      // Set to the Pushgateway's URL (e.g. http://pushgateway.monitoring:9091) so job pods push their metrics.
      PUSHGATEWAY_URL: '',
    }),
    cm(CONFIG_MAPS.report, {
      S3_BUCKET: 'seedtest-reports',
      AWS_REGION: 'ap-northeast-2',
      REPORT_FORMATS: 'html,pdf',
      REPORT_EDITIONS: 'learner,teacher',
      // The learners' zone when a learner has none, and the score scale the reports show θ on.
      REPORT_TIMEZONE: 'Asia/Seoul',
      REPORT_SCORE_MEAN: '100',
      REPORT_SCORE_SD: '20',
      REPORT_SCORE_DECIMALS: '0',
      REPORT_URL_TTL_SECONDS: '900',
    }),
    cm(CONFIG_MAPS.irt, {
      ENABLE_IRT_ONLINE_UPDATE: 'true',
      MIRT_MODEL: '2PL',
      MIRT_LINKING: 'auto',
    }),
  ];
}

function apiObjects(ns: string, image: string, replicas: number): K8sObject[] {
  const selector = { app: API_NAME };
  const labels = { ...commonLabels('api'), ...selector };
  const env = [
    databaseEnv(),
    secretEnv('R_IRT_INTERNAL_TOKEN', SECRETS.rIrt.name, 'token', true),
    ...s3Env(),
    // The worker Deployment consumes the θ-update queue; API pods only queue (request latency stays
    // free of scoring work, and the two scale separately).
    { name: 'THETA_WORKER_IN_API', value: 'false' },
  ];
  const envFrom = [...configEnvFrom(), { secretRef: { name: SECRETS.jwt.name } }];
  const httpGet = (path: string) => ({ path, port: 'http' });
  const deployment = deploymentOf(
    ns,
    API_NAME,
    labels,
    selector,
    replicas,
    podSpec({
      terminationGracePeriodSeconds: API_GRACE_SECONDS,
      // Migrations run under an advisory lock, so every replica may try; all but one find nothing to do.
      initContainers: [
        container({
          name: 'migrate',
          image,
          args: ['migrate'],
          env: [databaseEnv()],
          envFrom: [{ configMapRef: { name: CONFIG_MAPS.general } }],
          resources: MIGRATE_RESOURCES,
        }),
      ],
      containers: [
        container({
          name: 'api',
          image,
          args: ['serve'],
          ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
          env,
          envFrom,
          resources: API_RESOURCES,
          startupProbe: { httpGet: httpGet('/health'), periodSeconds: 2, failureThreshold: 30 },
          livenessProbe: healthLiveness('http'),
          // /ready asks the database (2 s timeout) and fails while migrations are pending.
          readinessProbe: {
            httpGet: httpGet('/ready'),
            periodSeconds: 5,
            timeoutSeconds: 3,
            failureThreshold: 2,
          },
          // Endpoints are removed asynchronously: keep serving a few seconds before SIGTERM.
          lifecycle: { preStop: { exec: { command: ['sleep', String(PRESTOP_SLEEP_SECONDS)] } } },
        }),
      ],
    }),
    { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
  );
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: API_NAME,
      namespace: ns,
      labels,
      // For Prometheus set-ups without the operator (annotation-based discovery).
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(HTTP_PORT),
        'prometheus.io/path': '/metrics',
      },
    },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        { name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: METRICS_SERVICE_PORT, targetPort: 'http', protocol: 'TCP' },
      ],
    },
  };
  const pdb: IPodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: API_NAME, namespace: ns, labels },
    spec: { minAvailable: 1, selector: { matchLabels: selector } },
  };
  return [deployment, service, pdb];
}

function workerObjects(ns: string, image: string, replicas: number): K8sObject[] {
  const selector = { app: WORKER_NAME };
  const labels = { ...commonLabels('worker'), ...selector };
  const deployment = deploymentOf(
    ns,
    WORKER_NAME,
    labels,
    selector,
    replicas,
    podSpec({
      // SIGTERM: the worker stops taking θ updates and finishes the one in hand; the queue keeps the rest.
      terminationGracePeriodSeconds: WORKER_GRACE_SECONDS,
      containers: [
        container({
          name: 'worker',
          image,
          args: ['worker'],
          // Its own /metrics and /health listener (WORKER_METRICS_PORT), scraped by a PodMonitor.
          ports: [{ name: 'metrics', containerPort: DEFAULT_WORKER_METRICS_PORT, protocol: 'TCP' }],
          env: [databaseEnv()],
          envFrom: configEnvFrom(),
          resources: WORKER_RESOURCES,
          livenessProbe: healthLiveness('metrics'),
          readinessProbe: { httpGet: { path: '/health', port: 'metrics' }, periodSeconds: 10 },
        }),
      ],
    }),
  );
  return [deployment];
}

/** The settings a job is deployed with, and the age after which its last success is overdue. */
export function jobSettings(
  job: JobEntry,
  opts: Pick<K8sOptions, 'scheduleOverrides' | 'jobOverrides'> = {},
): JobDeploySettings & { schedule: string; periodSeconds: number; staleAfterSeconds: number } {
  const schedule = opts.scheduleOverrides?.[job.name] ?? job.schedule;
  const s = { ...JOB_DEFAULTS, ...opts.jobOverrides?.[job.name] };
  const periodSeconds = cronPeriodSeconds(schedule);
  return {
    ...s,
    schedule,
    periodSeconds,
    staleAfterSeconds:
      periodSeconds + s.startingDeadlineSeconds + s.activeDeadlineSeconds + STALE_MARGIN_SECONDS,
  };
}

function checkJobName(name: string): void {
  if (!DNS_LABEL.test(name) || name.length > 52) {
    throw new ManifestError(
      `job name "${name}" cannot name a CronJob (a DNS label of at most 52 characters)`,
    );
  }
}

const jobLabels = (name: string) => ({ ...commonLabels('job'), app: 'seedtest-job', 'seedtest/job': name });

/** The pod of a job run: `seedtest job run <name> …args`. */
function jobPod(
  image: string,
  job: JobEntry,
  s: JobDeploySettings,
  args: readonly string[] = [],
  env: IEnvVar[] = [],
): IPodTemplateSpec {
  return {
    metadata: { labels: jobLabels(job.name) },
    spec: podSpec({
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
      containers: [
        container({
          name: 'job',
          image,
          args: ['job', 'run', job.name, ...args],
          env: [...env, databaseEnv(), ...s3Env()],
          envFrom: configEnvFrom(),
          resources: s.resources,
        }),
      ],
    }),
  };
}

function cronJob(ns: string, image: string, job: JobEntry, opts: K8sOptions): ICronJob {
  checkJobName(job.name);
  const s = jobSettings(job, opts);
  const labels = jobLabels(job.name);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: job.name,
      namespace: ns,
      labels,
      annotations: { 'seedtest/description': job.description },
    },
    spec: {
      schedule: s.schedule,
      // The registry's schedules are UTC (spec/pipeline.md), whatever the controller's local zone.
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: s.startingDeadlineSeconds,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: s.backoffLimit,
          activeDeadlineSeconds: s.activeDeadlineSeconds,
          template: jobPod(image, job, s),
        },
      },
    },
  };
}

export interface IndexedJobOptions {
  image: string;
  namespace?: string;
  job: JobEntry;
  /** Number of shards: pod i runs `--shard i/n`. */
  shards: number;
  /** Pods at once (default: all shards). */
  parallelism?: number;
  /** More arguments of `seedtest job run` (--date D, --from D --to D, --dry-run). */
  runArgs?: readonly string[];
  /** The Job's name (default `<job>-sharded`). */
  name?: string;
  jobOverrides?: K8sOptions['jobOverrides'];
}

/**
 * A one-off Indexed Job that splits a job over learners into `shards` pods: pod i runs
 * `seedtest job run <job> --shard i/n` (the completion index, read from the pod's annotation).
 * Shards hold the job's lock shared and their own exclusively, so they run together but never
 * beside an unsharded run of the same job.
 */
export function indexedJob(o: IndexedJobOptions): IJob {
  const ns = o.namespace ?? DEFAULT_NAMESPACE;
  checkJobName(o.job.name);
  if (o.job.unshardable) throw new InvalidInputError(`${o.job.name} cannot be sharded: ${o.job.unshardable}`);
  const image = checkImage(o.image);
  if (!Number.isInteger(o.shards) || o.shards < 1 || o.shards > 1024) {
    throw new ManifestError(`shards must be an integer from 1 to 1024, got ${o.shards}`);
  }
  const name = o.name ?? `${o.job.name}-sharded`;
  if (!DNS_LABEL.test(name) || name.length > 63) throw new ManifestError(`"${name}" is not a valid Job name`);
  const s = { ...JOB_DEFAULTS, ...o.jobOverrides?.[o.job.name] };
  const index: IEnvVar = {
    name: 'SHARD_INDEX',
    valueFrom: {
      fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
    },
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns, labels: jobLabels(o.job.name) },
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism: Math.min(o.parallelism ?? o.shards, o.shards),
      backoffLimit: s.backoffLimit * o.shards,
      activeDeadlineSeconds: s.activeDeadlineSeconds,
      ttlSecondsAfterFinished: 7 * 86400,
      template: jobPod(
        image,
        o.job,
        s,
        ['--shard', `$(SHARD_INDEX)/${o.shards}`, ...(o.runArgs ?? [])],
        [index],
      ),
    },
  };
}

function monitoringObjects(ns: string, opts: K8sOptions): K8sObject[] {
  const labels = commonLabels('monitoring');
  const serviceMonitor: IServiceMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: API_NAME, namespace: ns, labels },
    spec: {
      selector: { matchLabels: { app: API_NAME } },
      namespaceSelector: { matchNames: [ns] },
      endpoints: [
        {
          port: 'metrics',
          path: '/metrics',
          interval: '30s',
          // The job metrics carry a `job` label (the job's name): keep it instead of exported_job.
          honorLabels: true,
        },
      ],
    },
  };
  const podMonitor: IPodMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: WORKER_NAME, namespace: ns, labels },
    spec: {
      selector: { matchLabels: { app: WORKER_NAME } },
      namespaceSelector: { matchNames: [ns] },
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
    },
  };
  const sel = `namespace="${ns}"`;
  const runbook = (section: string) => `${opts.runbookUrl ?? DEFAULT_RUNBOOK_URL}#${section}`;
  const jobRules = opts.jobs.flatMap((job) => {
    const s = jobSettings(job, opts);
    const threshold = promDuration(s.staleAfterSeconds);
    const period = promDuration(s.periodSeconds);
    // The `job` label is the job's name whether scraped from the API (which exports every job's last
    // success from job_run) or pushed from a CronJob pod (the Pushgateway grouping key is the name).
    const lastSuccess = `seedtest_job_last_success_timestamp_seconds{job="${job.name}"}`;
    return [
      {
        alert: 'SeedtestJobNotSucceeded',
        expr: `time() - max(${lastSuccess}) > ${s.staleAfterSeconds}`,
        for: '10m',
        labels: { severity: 'warning', job: job.name },
        annotations: {
          summary: `${job.name} has not succeeded for more than ${threshold}`,
          description: `The last successful run of ${job.name} (schedule "${s.schedule}" UTC, period ${period}) is older than its period plus the starting and active deadlines and a margin (${threshold}). Read its job_run rows and the logs of its last pods.`,
          runbook_url: runbook(job.name),
        },
      },
      {
        alert: 'SeedtestJobNeverSucceeded',
        expr: `absent(${lastSuccess})`,
        for: threshold,
        labels: { severity: 'warning', job: job.name },
        annotations: {
          summary: `no successful run of ${job.name} is visible for ${threshold}`,
          description: `No scrape shows a last success of ${job.name}: neither the API (from job_run) nor the Pushgateway (when PUSHGATEWAY_URL is set). Check that the CronJob runs, its job_run rows and that the API is scraped.`,
          runbook_url: runbook(job.name),
        },
      },
    ];
  });
  const rule: IPrometheusRule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'seedtest', namespace: ns, labels },
    spec: {
      groups: [
        {
          name: 'seedtest-api',
          rules: [
            {
              alert: 'SeedtestApiDown',
              expr: `sum(up{job="${API_NAME}", ${sel}}) == 0 or absent(up{job="${API_NAME}", ${sel}})`,
              for: '5m',
              labels: { severity: 'critical' },
              annotations: {
                summary: 'no replica of the Seedtest API answers its metrics scrape',
                description: `kubectl -n ${ns} get pods -l app=${API_NAME}; kubectl -n ${ns} logs deploy/${API_NAME}`,
                runbook_url: runbook('the-api'),
              },
            },
            {
              alert: 'SeedtestApiHigh5xxRatio',
              expr:
                `sum(rate(http_requests_total{status=~"5..", ${sel}}[5m])) / ` +
                `sum(rate(http_requests_total{${sel}}[5m])) > 0.05`,
              for: '10m',
              labels: { severity: 'critical' },
              annotations: {
                summary: 'more than 5% of API requests answer 5xx',
                description:
                  'A 503 with code UNAVAILABLE means the database does not answer; other 5xx are bugs: read the logs by request id.',
                runbook_url: runbook('the-api'),
              },
            },
            {
              alert: 'SeedtestApiSlow',
              expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m]))) > 1`,
              for: '15m',
              labels: { severity: 'warning' },
              annotations: {
                summary: 'the 95th percentile of API request durations is above 1 s',
                description:
                  'The API dashboard shows which routes are slow; /ready and the database’s own metrics show whether the database is the cause.',
                runbook_url: runbook('the-api'),
              },
            },
          ],
        },
        {
          name: 'seedtest-jobs',
          rules: [
            {
              alert: 'SeedtestJobFailed',
              expr: `sum by (job) (increase(seedtest_job_runs_total{status!="succeeded"}[1h])) > 0`,
              labels: { severity: 'warning' },
              annotations: {
                summary: 'a run of {{ $labels.job }} failed or was partial in the last hour',
                description:
                  'SELECT * FROM job_run WHERE job = the job ORDER BY started_at DESC LIMIT 5; the error column says why.',
                runbook_url: runbook('troubleshooting-the-jobs'),
              },
            },
            {
              alert: 'SeedtestCronJobFailed',
              expr: `max by (job_name) (kube_job_failed{${sel}, condition="true"}) > 0`,
              labels: { severity: 'warning' },
              annotations: {
                summary: 'the Kubernetes Job {{ $labels.job_name }} failed (all its retries)',
                description: `kubectl -n ${ns} logs job/{{ $labels.job_name }}; delete the Job once understood to clear the alert.`,
                runbook_url: runbook('troubleshooting-the-jobs'),
              },
            },
            ...jobRules,
          ],
        },
        {
          name: 'seedtest-irt',
          rules: [
            {
              alert: 'SeedtestIrtAnchorsDropped',
              expr: `max(seedtest_irt_items_flagged{reason="dropped_anchor"}) > ${ANCHORS_DROPPED_ALERT}`,
              labels: { severity: 'warning' },
              annotations: {
                summary: `the last calibration screened out more than ${ANCHORS_DROPPED_ALERT} anchors (they moved since the previous run)`,
                description:
                  'GET /api/seedtest/calibrations/<run_id> lists them with their robust z; SELECT * FROM mirt_dropped_anchor WHERE run_id = the run.',
                runbook_url: runbook('mirt-calibrate'),
              },
            },
          ],
        },
        {
          name: 'seedtest-theta',
          rules: [
            {
              alert: 'SeedtestThetaQueueBacklog',
              expr: 'max(seedtest_theta_queue_depth) > 500',
              for: '10m',
              labels: { severity: 'warning' },
              annotations: {
                summary: 'more than 500 θ updates have waited in the queue for 10 minutes',
                description: `Scale the worker (kubectl -n ${ns} scale deploy/${WORKER_NAME} --replicas=N) and check its logs.`,
                runbook_url: runbook('the-theta-update-worker'),
              },
            },
            {
              alert: 'SeedtestThetaUpdateSlow',
              expr: 'histogram_quantile(0.95, sum by (le) (rate(seedtest_theta_update_latency_seconds_bucket[10m]))) > 5',
              for: '15m',
              labels: { severity: 'warning' },
              annotations: {
                summary: 'the 95th percentile from session completion to the θ write is above 5 s',
                description: `Check the queue depth and the worker's logs (kubectl -n ${ns} logs deploy/${WORKER_NAME}); scale the worker if the queue grows.`,
                runbook_url: runbook('the-theta-update-worker'),
              },
            },
          ],
        },
      ],
    },
  };
  return [serviceMonitor, podMonitor, rule];
}

/** Every manifest, grouped by the file it goes to. */
export function generateManifests(opts: K8sOptions): ManifestFile[] {
  const ns = opts.namespace ?? DEFAULT_NAMESPACE;
  if (!DNS_LABEL.test(ns)) throw new ManifestError(`namespace "${ns}" is not a DNS label`);
  const image = checkImage(opts.image);
  const names = new Set<string>();
  for (const job of opts.jobs) {
    if (names.has(job.name)) throw new ManifestError(`job "${job.name}" is registered twice`);
    names.add(job.name);
  }
  if (opts.runbookUrl !== undefined && !/^https?:\/\/[^/\s]+\S*$/.test(opts.runbookUrl)) {
    throw new ManifestError(`runbook URL "${opts.runbookUrl}" is not an absolute http(s) URL`);
  }
  for (const name of Object.keys(opts.scheduleOverrides ?? {})) {
    if (!names.has(name)) throw new ManifestError(`a schedule override names an unknown job "${name}"`);
  }
  return [
    { file: 'namespace.yaml', objects: namespaceObjects(ns) },
    { file: 'config.yaml', objects: configMaps(ns) },
    { file: 'api.yaml', objects: apiObjects(ns, image, opts.apiReplicas ?? 2) },
    { file: 'worker.yaml', objects: workerObjects(ns, image, opts.workerReplicas ?? 1) },
    ...opts.jobs.map((job) => ({
      file: `cronjob-${job.name}.yaml`,
      objects: [cronJob(ns, image, job, opts)],
    })),
    { file: 'monitoring.yaml', objects: monitoringObjects(ns, opts) },
    { file: 'grafana-dashboards.yaml', objects: [dashboardsConfigMap(ns, commonLabels('dashboards'))] },
  ];
}

export const GENERATED_HEADER =
  '# Generated by `seedtest k8s` from the job registry (src/jobs/registry.ts): do not edit.\n' +
  '# Regenerate with `npm run k8s` (a test fails when these files differ from the generator).\n';

/**
 * YAML that YAML 1.1 readers (Kubernetes tooling) read as the same strings: with the 1.1 schema the
 * writer quotes `on`, `yes`, `2026-11-23` and the like, which a 1.1 reader would turn into booleans
 * and timestamps. No folding (PromQL stays on one line), no anchors for shared sub-objects.
 */
export const toYaml = (value: unknown) =>
  stringify(value, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });

/** File name → content: one YAML stream per file and a kustomization.yaml listing them. */
export function renderManifests(opts: K8sOptions): Map<string, string> {
  const files = generateManifests(opts);
  const out = new Map<string, string>();
  for (const f of files) {
    out.set(f.file, GENERATED_HEADER + f.objects.map((o) => `---\n${toYaml(o)}`).join(''));
  }
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    // monitoring.yaml needs the Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule).
    resources: files.map((f) => f.file),
  };
  out.set('kustomization.yaml', GENERATED_HEADER + toYaml(kustomization));
  return out;
}
