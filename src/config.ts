// The only module that reads process.env. Every variable is parsed, validated and frozen here;
// an invalid value stops the program with a message that names the variable.
import { resolve } from 'node:path';
import { InvalidInputError, UserError } from './user-error.js';

export class ConfigError extends UserError {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = optional(env, name);
  if (v === undefined) return fallback;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

function num(
  env: Env,
  name: string,
  fallback: number,
  opts: { min?: number; max?: number; int?: boolean } = {},
) {
  const v = optional(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n))) {
    throw new ConfigError(`${name} must be ${opts.int ? 'an integer' : 'a number'}, got "${v}"`);
  }
  if (opts.min !== undefined && n < opts.min)
    throw new ConfigError(`${name} must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max)
    throw new ConfigError(`${name} must be <= ${opts.max}, got ${n}`);
  return n;
}

/** A date YYYY-MM-DD that exists, from 1900 on (PostgreSQL has no year 0; older data is a mistake). */
function day(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  const d = new Date(`${v}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) {
    throw new ConfigError(`${name} must be a date YYYY-MM-DD, got "${v}"`);
  }
  if (v < '1900-01-01') throw new ConfigError(`${name} must be 1900-01-01 or later, got ${v}`);
  return v;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = optional(env, name);
  if (v === undefined) return fallback;
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return hit;
}

export const IRT_MODELS = ['Rasch', '2PL', '3PL'] as const;
export const LINKING_METHODS = ['auto', 'fixed', 'mean-sigma', 'stocking-lord', 'none'] as const;
export const REPORT_FORMATS = ['html', 'pdf'] as const;
export const REPORT_EDITIONS = ['learner', 'teacher'] as const;

/** A comma-separated subset of `allowed`, in the order given. */
function list<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: string): T[] {
  const values = str(env, name, fallback)
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean);
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(`${name} may contain ${allowed.join(' and ')} only, got "${v}"`);
    }
  }
  return values as T[];
}

/** An IANA time zone name the runtime knows (e.g. Asia/Seoul). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
/** `seedtest worker`'s metrics port unless WORKER_METRICS_PORT says otherwise (the manifests use it). */
export const DEFAULT_WORKER_METRICS_PORT = 9464;
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;

export function loadConfig(env: Env = process.env) {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const dataDir = resolve(str(env, 'DATA_DIR', './data'));
  const jwtSecret = optional(env, 'JWT_SECRET');
  const jwtPublicKey = optional(env, 'JWT_PUBLIC_KEY');
  const jwtJwksUrl = optional(env, 'JWT_JWKS_URL');
  const jwtAlgorithm = oneOf(
    env,
    'JWT_ALGORITHM',
    JWT_ALGORITHMS,
    jwtPublicKey || jwtJwksUrl ? 'RS256' : 'HS256',
  );
  if (jwtAlgorithm === 'HS256' && jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters for HS256');
  }
  if (jwtAlgorithm !== 'HS256' && !jwtPublicKey && !jwtJwksUrl && jwtSecret) {
    throw new ConfigError(`JWT_ALGORITHM=${jwtAlgorithm} needs JWT_PUBLIC_KEY or JWT_JWKS_URL`);
  }
  const formats = list(env, 'REPORT_FORMATS', REPORT_FORMATS, 'html,pdf');
  const editions = list(env, 'REPORT_EDITIONS', REPORT_EDITIONS, 'learner,teacher');
  const timeZone = str(env, 'REPORT_TIMEZONE', 'Asia/Seoul');
  if (!isTimeZone(timeZone))
    throw new ConfigError(`REPORT_TIMEZONE must be an IANA time zone, got "${timeZone}"`);
  const inContainer = bool(env, 'SEEDTEST_IN_CONTAINER', false);
  const rBase = optional(env, 'R_IRT_BASE_URL');

  return Object.freeze({
    databaseUrl,
    dataDir,
    port: num(env, 'PORT', 8080, { min: 0, max: 65535, int: true }),
    host: str(env, 'HOST', inContainer ? '0.0.0.0' : '127.0.0.1'),
    /** `seedtest worker`'s own /metrics and /health listener (the API serves its own on PORT); 0 = off. */
    workerMetricsPort: num(env, 'WORKER_METRICS_PORT', DEFAULT_WORKER_METRICS_PORT, {
      min: 0,
      max: 65535,
      int: true,
    }),
    /** Where clients reach the API (links in answers); unset: the address each request came to. */
    publicBaseUrl: optional(env, 'PUBLIC_BASE_URL')?.replace(/\/$/, ''),
    /** The earliest date a time input (API or import) may name; see src/ingestion/time.ts. */
    earliestInputDate: day(env, 'EARLIEST_INPUT_DATE', '2000-01-01'),
    enableIrtOnlineUpdate: bool(env, 'ENABLE_IRT_ONLINE_UPDATE', true),
    /**
     * Whether `seedtest serve` also consumes the θ-update queue (completions are queued either way).
     * false when a separate `seedtest worker` does it (the Kubernetes manifests).
     */
    thetaWorkerInApi: bool(env, 'THETA_WORKER_IN_API', true),
    /** undefined = the command decides (true for `serve` on the embedded database). */
    enableScheduler:
      optional(env, 'ENABLE_SCHEDULER') === undefined ? undefined : bool(env, 'ENABLE_SCHEDULER', false),
    auth: Object.freeze({
      disabled: bool(env, 'AUTH_DISABLED', false),
      algorithm: jwtAlgorithm,
      secret: jwtSecret,
      publicKey: jwtPublicKey,
      jwksUrl: jwtJwksUrl,
      issuer: optional(env, 'JWT_ISS'),
      audience: optional(env, 'JWT_AUD'),
      internalToken: optional(env, 'R_IRT_INTERNAL_TOKEN'),
    }),
    /** Accepted for compatibility with the original deployment and ignored: the engine is in-process. */
    rIrtBaseUrl: rBase,
    kpi: Object.freeze({
      lookbackDays: num(env, 'KPI_LOOKBACK_DAYS', 30, { min: 1, max: 3650, int: true }),
      defaultTarget: num(env, 'METRICS_DEFAULT_TARGET', 0),
      useIrtTheta: bool(env, 'METRICS_USE_IRT_THETA', true),
      churnHorizonDays: num(env, 'METRICS_CHURN_HORIZON_DAYS', 14, { min: 1, max: 365, int: true }),
    }),
    aggLookbackDays: num(env, 'AGG_LOOKBACK_DAYS', 7, { min: 1, max: 3650, int: true }),
    mirt: Object.freeze({
      lookbackDays: num(env, 'MIRT_LOOKBACK_DAYS', 30, { min: 1, max: 3650, int: true }),
      model: oneOf(env, 'MIRT_MODEL', IRT_MODELS, '2PL'),
      linking: oneOf(env, 'MIRT_LINKING', LINKING_METHODS, 'auto'),
      minItemResponses: num(env, 'MIRT_MIN_ITEM_RESPONSES', 20, { min: 1, int: true }),
      /** 0 = no cap on the number of responses a calibration reads. */
      maxObs: num(env, 'MIRT_MAX_OBS', 0, { min: 0, int: true }),
    }),
    cat: Object.freeze({
      /** Default of a session's exclude_days: items the learner answered within it are not served. */
      excludeDays: num(env, 'CAT_EXCLUDE_DAYS', 30, { min: 0, max: 3650, int: true }),
      /** An item served in more than this share of the last week's adaptive sessions is over-exposed. */
      maxExposureRate: num(env, 'CAT_MAX_EXPOSURE_RATE', 0.25, { min: 0, max: 1 }),
    }),
    inactivityThresholdDays: num(env, 'INACTIVITY_THRESHOLD_DAYS', 7, { min: 1, max: 365, int: true }),
    reports: Object.freeze({
      formats: Object.freeze(formats),
      editions: Object.freeze(editions),
      /** The zone of learners whose learner.time_zone is NULL. */
      timeZone,
      /** The learner edition's score = mean + sd × θ, rounded to `decimals`. */
      score: Object.freeze({
        mean: num(env, 'REPORT_SCORE_MEAN', 100),
        sd: num(env, 'REPORT_SCORE_SD', 20, { min: Number.MIN_VALUE }),
        decimals: num(env, 'REPORT_SCORE_DECIMALS', 0, { min: 0, max: 3, int: true }),
      }),
      /** The least data a recommendation rule needs before it fires. */
      rules: Object.freeze({
        minTopicAttempts: num(env, 'REPORT_RULE_MIN_TOPIC_ATTEMPTS', 10, { min: 1, int: true }),
        minSessions: num(env, 'REPORT_RULE_MIN_SESSIONS', 3, { min: 1, int: true }),
      }),
      s3Bucket: optional(env, 'S3_BUCKET'),
      s3Endpoint: optional(env, 'S3_ENDPOINT'),
      s3ForcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', false),
      awsRegion: str(env, 'AWS_REGION', 'ap-northeast-2'),
      urlTtlSeconds: num(env, 'REPORT_URL_TTL_SECONDS', 900, { min: 1, max: 604800, int: true }),
      concurrency: num(env, 'REPORT_CONCURRENCY', 4, { min: 1, max: 64, int: true }),
    }),
    pushgatewayUrl: optional(env, 'PUSHGATEWAY_URL'),
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
      'info',
    ),
    /** Per-job cron overrides: SCHEDULE_<JOB_NAME_IN_UPPER_SNAKE>=<cron>. */
    scheduleOverrides: Object.freeze(
      Object.fromEntries(
        Object.entries(env)
          .filter(([k, v]) => k.startsWith('SCHEDULE_') && v)
          .map(([k, v]) => [k.slice('SCHEDULE_'.length).toLowerCase().replaceAll('_', '-'), v as string]),
      ),
    ),
  });
}

export type Config = ReturnType<typeof loadConfig>;

/**
 * The configuration with some variables given on the command line (`serve --port` for PORT),
 * validated alike; a bad value given that way is an argument error naming the option.
 */
export function loadConfigWith(options: Record<string, { flag: string; value: string | undefined }>): Config {
  const given = Object.entries(options).filter(([, o]) => o.value !== undefined);
  try {
    return loadConfig({ ...process.env, ...Object.fromEntries(given.map(([name, o]) => [name, o.value])) });
  } catch (err) {
    // Every message about a variable starts with its name.
    const bad = err instanceof ConfigError && given.find(([name]) => err.message.startsWith(`${name} `));
    if (bad) throw new InvalidInputError(`${bad[1].flag}${(err as Error).message.slice(bad[0].length)}`);
    throw err;
  }
}

/** Whether npm started this process (`npx seedtest`, `npm start`): npm sets npm_command for its children. */
export function launchedByNpm(env: Env = process.env): boolean {
  return Boolean(env.npm_command);
}
