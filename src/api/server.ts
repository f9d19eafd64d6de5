// The HTTP server: Fastify with the TypeBox type provider, one error shape, request ids, HTTP
// metrics, the OpenAPI document and its page, health/readiness/metrics, and the route groups under
// /api/seedtest.
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { analysisIrtRoutes } from '../ability/routes.js';
import { catRoutes } from '../adaptive/routes.js';
import { irtCompatRoutes } from '../calibration/irt-compat-routes.js';
import { itemRoutes } from '../calibration/item-routes.js';
import { calibrationRoutes } from '../calibration/routes.js';
import { cohortAdminRoutes } from '../cohorts/routes.js';
import type { Config } from '../config.js';
import { cohortExtraRoutes } from '../dashboard/cohort-extras-routes.js';
import { itemBankRoutes } from '../dashboard/item-bank-routes.js';
import { dashboardPages } from '../dashboard/pages.js';
import { pipelineRoutes } from '../dashboard/pipeline-routes.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import type { Database } from '../db/connection.js';
import { pendingMigrations } from '../db/migrator.js';
import { sessionRoutes } from '../ingestion/routes.js';
import { jobRoutes } from '../jobs/routes.js';
import { analysisMetricsRoutes } from '../kpis/routes.js';
import { databaseGauges } from '../observability/database-gauges.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { reportRoutes } from '../reports/routes.js';
import { VERSION } from '../version.js';
import { registerAuth } from './auth.js';
import {
  DOCS_ASSETS_PATH,
  DOCS_CSP,
  DOCS_INIT_PATH,
  DOCS_INIT_SCRIPT,
  DOCS_PAGE,
  DOCS_PATH,
  docsAsset,
  documentRoute,
  OPENAPI_PATH,
} from './docs.js';
import { ApiError, clientErrorHandler, installErrorHandling } from './errors.js';
import type { RouteDeps, SessionCompletedHook } from './route-deps.js';

export const API_PREFIX = '/api/seedtest';
const BODY_LIMIT = 1024 * 1024;
const READY_TIMEOUT_MS = 2000;
const SHUTDOWN_GRACE_MS = 25_000;

export interface ServerOptions {
  config: Config;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  onSessionCompleted?: SessionCompletedHook;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Request validation. Unknown fields are refused, not silently dropped. A JSON body is taken as
 * typed: no coercion, so `"correct": null` or `"30"` for a number is a 400 naming the field, not a
 * stored `false` or 30. Path and query strings are text by nature and are coerced to their types.
 */
function makeValidator(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  // ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
  ajvFormats.default(ajv);
  return ajv;
}

const validators = { body: makeValidator(false), other: makeValidator('array') };

export function buildServer(options: ServerOptions): FastifyInstance {
  const { config, database, logger, metrics } = options;
  const refreshDatabaseGauges = databaseGauges(database, metrics, config.cat.maxExposureRate);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Ids may be 128 characters; longer ones reach validation and get a 400 naming the field.
    routerOptions: { maxParamLength: 256 },
    // The router's own refusals (a longer segment, a malformed URL) in the one error shape.
    frameworkErrors: (err, _request, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as FastifyReply).status(tooLong ? 414 : 400).send({
        error: tooLong
          ? { code: 'URL_TOO_LONG', message: 'a path segment is longer than 256 characters' }
          : { code: 'BAD_URL', message: 'the URL is malformed' },
      });
    },
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? validators.body : validators.other).compile(schema),
  );

  installErrorHandling(app);
  // An empty body sent as application/json (clients that set the header on every request) is no
  // body: a route without one accepts it, a route that needs one answers 400 naming `body`.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') done(null, undefined);
    else parseJson(request, text as string, done);
  });
  registerAuth(app, config.auth, logger);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    metrics.httpRequestsTotal.inc({ method, route, status: String(reply.statusCode) });
    metrics.httpRequestDuration.observe({ method, route }, reply.elapsedTime / 1000);
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Seedtest analytics API',
        version: VERSION,
        description: 'Learning analytics: sessions, attempts, IRT ability, KPIs and reports.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          internalToken: { type: 'apiKey', in: 'header', name: 'X-Internal-Token' },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    transform: documentRoute,
  });

  const hidden = { schema: { hide: true } };
  app.get(OPENAPI_PATH, hidden, async () => app.swagger());
  app.get(DOCS_PATH, hidden, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).send(DOCS_PAGE),
  );
  app.get(DOCS_INIT_PATH, hidden, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(DOCS_INIT_SCRIPT),
  );
  app.get(`${DOCS_ASSETS_PATH}/:file`, hidden, async (request, reply) => {
    const asset = docsAsset((request.params as { file: string }).file);
    if (!asset) throw new ApiError('NOT_FOUND', 'no such documentation asset');
    // The file is the installed package's: it changes only with a new release of the server.
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
  // Probes and scrapes come every few seconds: their requests are not logged, only their warnings.
  const probe = { ...hidden, logLevel: 'warn' } as const;
  app.get('/health', probe, async () => ({ status: 'ok' }));
  app.get('/ready', probe, async (request, reply) => {
    try {
      await withTimeout(database.query('SELECT 1'), READY_TIMEOUT_MS);
      const pending = await withTimeout(pendingMigrations(database), READY_TIMEOUT_MS);
      if (pending.length > 0) {
        request.log.warn({ pending: pending.map((m) => m.version) }, 'not ready: migrations pending');
        return reply.status(503).send({
          error: {
            code: 'NOT_READY',
            message: 'database migrations are pending: run `seedtest migrate`',
            details: { pending: pending.map((m) => m.version) },
          },
        });
      }
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply
        .status(503)
        .send({ error: { code: 'NOT_READY', message: 'the database does not answer' } });
    }
  });
  app.get('/metrics', probe, async (_request, reply) => {
    await refreshDatabaseGauges().catch((err: unknown) =>
      app.log.warn({ err }, 'database unreadable: database-derived gauges not refreshed'),
    );
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const deps: RouteDeps = { config, database, metrics, onSessionCompleted: options.onSessionCompleted };
  app.register(sessionRoutes, { prefix: API_PREFIX, ...deps });
  app.register(jobRoutes, { prefix: API_PREFIX, ...deps });
  app.register(analysisIrtRoutes, { prefix: API_PREFIX, ...deps });
  app.register(analysisMetricsRoutes, { prefix: API_PREFIX, ...deps });
  app.register(itemRoutes, { prefix: API_PREFIX, ...deps });
  app.register(calibrationRoutes, { prefix: API_PREFIX, ...deps });
  app.register(reportRoutes, { prefix: API_PREFIX, ...deps });
  app.register(catRoutes, { prefix: API_PREFIX, ...deps });
  app.register(itemBankRoutes, { prefix: API_PREFIX, ...deps });
  app.register(dashboardRoutes, { prefix: API_PREFIX, ...deps });
  app.register(pipelineRoutes, { prefix: API_PREFIX, ...deps });
  app.register(cohortExtraRoutes, { prefix: API_PREFIX, ...deps });
  app.register(cohortAdminRoutes, { prefix: API_PREFIX, ...deps });
  app.register(dashboardPages);
  app.register(irtCompatRoutes, deps);
  return app;
}

/** Listens on the configured host and port; returns the address. */
export async function startServer(app: FastifyInstance, config: Config): Promise<string> {
  return app.listen({ port: config.port, host: config.host });
}

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (app.close), close the
 * database, exit. A shutdown that outlasts the grace period exits with status 1.
 */
export function installShutdownHandlers(
  app: FastifyInstance,
  database: Database,
  logger: Logger,
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    app
      .close()
      .then(() => database.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
