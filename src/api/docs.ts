// The API reference: Swagger UI (swagger-ui-dist, from npm) served by this server alone, and what the
// OpenAPI document says beyond the route schemas: the scopes of each route, its errors in the one
// error shape, and examples that work on the demo's data (`seedtest demo`).
//
// The page makes no request to another host: the HTML, the UI's bundle and stylesheet and the script
// that starts it all come from /docs, the document from /docs/openapi.json, and the
// Content-Security-Policy forbids anything else.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifySchema, RouteOptions } from 'fastify';
import { scopesOf } from './auth.js';
import { ERROR_CODES, type ErrorCode, TRANSPORT_CODES } from './error-codes.js';

export const DOCS_PATH = '/docs';
export const OPENAPI_PATH = `${DOCS_PATH}/openapi.json`;
export const DOCS_INIT_PATH = `${DOCS_PATH}/init.js`;
export const DOCS_ASSETS_PATH = `${DOCS_PATH}/assets`;

/**
 * Scripts only from this server, never inline. Swagger UI sets inline styles as it renders (its
 * issue #10655), hence 'unsafe-inline' for styles alone; its icons are data: SVGs in its stylesheet.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The files of swagger-ui-dist the page loads, and their types. */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const distDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assetCache = new Map<string, Buffer>();

/** An asset of the page by file name, or undefined for any other name. Read once, then cached. */
export function docsAsset(file: string): { body: Buffer; type: string } | undefined {
  const type = Object.hasOwn(ASSET_TYPES, file) ? ASSET_TYPES[file] : undefined;
  if (!type) return undefined;
  let body = assetCache.get(file);
  if (!body) {
    body = readFileSync(join(distDir, file));
    assetCache.set(file, body);
  }
  return { body, type };
}

export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seedtest analytics API</title>
<link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
</head><body>
<div id="swagger-ui"></div>
<script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_INIT_PATH}"></script>
</body></html>
`;

/** Starts the UI (a file, not an inline script, so the CSP needs no 'unsafe-inline' for scripts). */
export const DOCS_INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  deepLinking: true,
  // The default validator badge is an image from validator.swagger.io.
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
`;

interface RouteDoc {
  /** Errors beyond those every route of its kind has (input, authentication, scope, availability). */
  errors?: ErrorCode[];
  /** Example values of path and query parameters. */
  params?: Record<string, string | number>;
  body?: unknown;
}

/**
 * Per route (method and path as registered). The examples name what `seedtest demo` creates: items
 * itm-0001…, learners u-00001… (the demo prints a token for u-00001), their sessions
 * u-00001-s001…, topics such as math-calculus.
 */
const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /api/seedtest/sessions': {
    errors: ['NOT_YOUR_DATA', 'SESSION_EXISTS'],
    body: { session_id: 'u-00001-mock-1', exam_id: 'csat-mock-2026' },
  },
  'GET /api/seedtest/sessions/:session_id': {
    errors: ['NOT_YOUR_DATA', 'SESSION_NOT_FOUND'],
    params: { session_id: 'u-00001-s001' },
  },
  'POST /api/seedtest/sessions/:session_id/attempts': {
    errors: [
      'NOT_YOUR_DATA',
      'SESSION_NOT_FOUND',
      'SESSION_CLOSED',
      'UNKNOWN_ITEMS',
      'ATTEMPT_CONFLICT',
      'ITEM_NOT_SERVED',
      'PAYLOAD_TOO_LARGE',
    ],
    params: { session_id: 'u-00001-mock-1' },
    body: {
      attempts: [
        { client_attempt_id: 'a1', item_id: 'itm-0001', correct: true, response_time_ms: 5300 },
        { client_attempt_id: 'a2', item_id: 'itm-0002', correct: false, response_time_ms: 12000, hints: 1 },
      ],
    },
  },
  'POST /api/seedtest/sessions/:session_id/complete': {
    errors: ['NOT_YOUR_DATA', 'SESSION_NOT_FOUND', 'SESSION_ABANDONED'],
    params: { session_id: 'u-00001-mock-1' },
  },
  'GET /api/seedtest/items': { params: { topic_id: 'math-calculus', limit: 20 } },
  'GET /api/seedtest/items/:item_id/params': { errors: ['ITEM_NOT_FOUND'], params: { item_id: 'itm-0001' } },
  'GET /api/seedtest/items/:item_id/history': { errors: ['ITEM_NOT_FOUND'], params: { item_id: 'itm-0001' } },
  'GET /api/seedtest/calibrations/:run_id': { errors: ['CALIBRATION_NOT_FOUND'] },
  'GET /api/seedtest/sessions/:session_id/next-item': {
    errors: [
      'NOT_YOUR_DATA',
      'SESSION_NOT_FOUND',
      'SESSION_CLOSED',
      'NOT_ADAPTIVE',
      'NO_CALIBRATION',
      'NO_EXPOSURE_PARAMS',
    ],
  },
  'GET /api/seedtest/cat/exposure/:run_id': { errors: ['NO_EXPOSURE'] },
  'PUT /api/seedtest/cat/sympson-hetter/:run_id': { errors: ['CALIBRATION_NOT_FOUND', 'UNKNOWN_ITEMS'] },
  'GET /api/seedtest/cohorts/:cohort_id/learners': {
    errors: ['COHORT_FORBIDDEN', 'COHORT_NOT_FOUND'],
    params: { cohort_id: 'c-001', sort: 'risk' },
  },
  'GET /api/seedtest/cohorts/:cohort_id/distributions': {
    errors: ['COHORT_FORBIDDEN', 'COHORT_NOT_FOUND'],
    params: { cohort_id: 'c-001', locale: 'en' },
  },
  'GET /api/seedtest/cohorts/:cohort_id/learners.csv': {
    errors: ['COHORT_FORBIDDEN', 'COHORT_NOT_FOUND'],
    params: { cohort_id: 'c-001', sort: 'risk', locale: 'ko' },
  },
  'PUT /api/seedtest/cohorts/:cohort_id': {
    params: { cohort_id: 'c-031' },
    body: { name: 'Class 31', members: ['u-00901', 'u-00902'] },
  },
  'GET /api/seedtest/learners/:user_id/topics': {
    errors: ['NOT_YOUR_DATA', 'LEARNER_NOT_FOUND'],
    params: { user_id: 'u-00001' },
  },
  'GET /api/seedtest/pipeline': { params: { runs: 20 } },
  'GET /api/seedtest/learners/:user_id/overview': {
    errors: ['NOT_YOUR_DATA', 'LEARNER_NOT_FOUND'],
    params: { user_id: 'u-00001' },
  },
  'GET /api/seedtest/learners/:user_id/charts': {
    errors: ['NOT_YOUR_DATA', 'LEARNER_NOT_FOUND'],
    params: { user_id: 'u-00001' },
  },
  'GET /api/seedtest/item-bank': { errors: ['CALIBRATION_NOT_FOUND'], params: { filter: 'flagged' } },
  'GET /api/seedtest/item-bank/charts': {
    errors: ['CALIBRATION_NOT_FOUND'],
    params: { color: 'topic', locale: 'en' },
  },
  'GET /api/seedtest/item-bank/calibrations': { params: { limit: 10 } },
  'GET /api/seedtest/item-bank/items/:item_id': {
    errors: ['ITEM_NOT_FOUND'],
    params: { item_id: 'itm-0001' },
  },
  'GET /api/seedtest/item-bank/items/:item_id/charts': {
    errors: ['ITEM_NOT_FOUND'],
    params: { item_id: 'itm-0001', locale: 'en' },
  },
  'POST /api/seedtest/analysis/irt/update-theta': {
    errors: ['NOT_YOUR_DATA', 'NO_CALIBRATION', 'NO_RESPONSES', 'SESSION_NOT_FOUND'],
    body: { user_id: 'u-00001', session_id: 'u-00001-s001' },
  },
  'GET /api/seedtest/analysis/irt/theta': { errors: ['NOT_YOUR_DATA'], params: { user_id: 'u-00001' } },
  'GET /api/seedtest/analysis/metrics/weekly': { errors: ['NOT_YOUR_DATA'], params: { user_id: 'u-00001' } },
  'POST /api/seedtest/analysis/metrics/recompute': { errors: ['WEEK_NOT_STARTED', 'NO_ACTIVITY'] },
  'GET /api/seedtest/analysis/features/topics': { errors: ['NOT_YOUR_DATA'], params: { user_id: 'u-00001' } },
  'POST /api/seedtest/jobs/:name/run': {
    errors: ['UNKNOWN_JOB'],
    params: { name: 'compute-daily-kpis' },
    body: { dry_run: true },
  },
  'GET /api/seedtest/jobs/runs': { params: { job: 'mirt-calibrate' } },
  'GET /api/seedtest/jobs/runs/:run_id': { errors: ['NOT_FOUND'], params: { run_id: '1' } },
  'GET /api/seedtest/reports': { errors: ['NOT_YOUR_DATA'], params: { user_id: 'u-00001' } },
  'GET /api/seedtest/reports/:id/download': {
    errors: ['NOT_YOUR_DATA', 'REPORT_NOT_FOUND'],
    params: { id: '1' },
  },
  'POST /irt/score': { errors: ['UNKNOWN_ITEMS', 'PAYLOAD_TOO_LARGE'] },
  'POST /irt/calibrate': { errors: ['CALIBRATION_FAILED', 'PAYLOAD_TOO_LARGE'] },
};

/** The route documentation table, for the test that checks it against the registered routes. */
export const documentedRoutes = () => Object.keys(ROUTE_DOCS);
export const documentedErrorCodes = () =>
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
    (c) => !(TRANSPORT_CODES as readonly string[]).includes(c),
  );

type Schema = Record<string, unknown> & {
  hide?: boolean;
  description?: string;
  security?: Array<Record<string, string[]>>;
  body?: Schema;
  params?: Schema;
  querystring?: Schema;
  properties?: Record<string, Schema>;
  response?: Record<string, unknown>;
};

function errorResponse(codes: ErrorCode[]) {
  return {
    description: codes.map((c) => `${c}: ${ERROR_CODES[c][1]}`).join('; '),
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: codes },
          message: { type: 'string' },
          details: { description: 'present when the code says so (the fields, the item ids …)' },
        },
      },
    },
    examples: [{ error: { code: codes[0], message: ERROR_CODES[codes[0]][1] } }],
  };
}

/** With an example value on each listed property of a params or query schema. */
function withParamExamples(schema: Schema | undefined, examples: Record<string, unknown>) {
  if (!schema?.properties) return schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([k, p]) => [
      k,
      k in examples ? { ...p, examples: [examples[k]] } : p,
    ]),
  );
  return { ...schema, properties };
}

/**
 * A query schema as a client reads it: a parameter with a default may be left out (validation fills
 * it in), so it is not listed as required even where the runtime schema lists it.
 */
function optionalDefaults(schema: Schema | undefined) {
  if (!schema?.properties || !Array.isArray(schema.required)) return schema;
  const props = schema.properties;
  return {
    ...schema,
    required: (schema.required as string[]).filter((k) => props[k]?.default === undefined),
  };
}

/** What a success status means, for a response schema that does not say (the UI would show "Default Response"). */
const SUCCESS: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

function describedResponses(response: Record<string, unknown> | undefined) {
  return Object.fromEntries(
    Object.entries(response ?? {}).map(([status, r]) => [
      status,
      SUCCESS[status] && typeof r === 'object' && r !== null && !('description' in r)
        ? { ...r, description: SUCCESS[status] }
        : r,
    ]),
  );
}

/**
 * @fastify/swagger's transform: the documentation of a route, never its runtime schema (a copy is
 * returned, so validation and serialisation are unchanged).
 */
export function documentRoute({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: RouteOptions;
}): { schema: FastifySchema; url: string } {
  const s = schema as Schema | undefined;
  if (!s || s.hide) return { schema, url };
  const method = [route.method].flat()[0];
  const doc = ROUTE_DOCS[`${method} ${url}`] ?? {};
  const scopes = scopesOf(route.preHandler);
  const authenticated = (s.security ?? []).length > 0;
  const codes: ErrorCode[] = [
    ...(s.body || s.params || s.querystring ? (['INVALID_INPUT'] as const) : []),
    ...(s.body ? (['MALFORMED_JSON'] as const) : []),
    ...(authenticated ? (['UNAUTHENTICATED', 'INVALID_TOKEN'] as const) : []),
    ...(scopes ? (['INSUFFICIENT_SCOPE'] as const) : []),
    ...(doc.errors ?? []),
    'UNAVAILABLE',
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of new Set(codes)) {
    const status = ERROR_CODES[c][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), c]);
  }
  const scopeLine = scopes
    ? `Scopes: ${scopes.map((x) => `\`${x}\``).join(' or ')} (\`admin\` implies every scope).`
    : authenticated
      ? 'Authentication: R_IRT_INTERNAL_TOKEN as a Bearer token or X-Internal-Token.'
      : '';
  return {
    url,
    schema: {
      ...s,
      description: [s.description, scopeLine].filter(Boolean).join('\n\n'),
      ...(doc.body !== undefined && s.body ? { body: { ...s.body, examples: [doc.body] } } : {}),
      ...(doc.params ? { params: withParamExamples(s.params, doc.params) } : {}),
      ...(s.querystring
        ? { querystring: optionalDefaults(withParamExamples(s.querystring, doc.params ?? {})) }
        : {}),
      response: {
        ...describedResponses(s.response),
        ...Object.fromEntries([...byStatus].map(([status, list]) => [status, errorResponse(list)])),
      },
    },
  };
}
