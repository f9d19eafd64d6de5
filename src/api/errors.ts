// The error catalogue: every failure leaves the API as {error: {code, message, details?}} with the
// right status. A 5xx never carries internals to the client; it is logged instead.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUnavailable } from '../db/unavailable.js';
import { type ErrorCode, statusOf } from './error-codes.js';

/** A refusal a client can act on: its status comes from the code's entry in the catalogue. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = statusOf(code);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

function body(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `/attempts/0/item_id` → `attempts[0].item_id`; an unknown property is named after the property. */
function fieldName(context: string | undefined, issue: ValidationIssue): string {
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean);
  const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
  if (typeof extra === 'string') parts.push(extra);
  const path = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  return path || (context ?? 'body');
}

function validationMessage(issue: ValidationIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not an allowed field';
  return issue.message ?? 'is invalid';
}

function handle(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof ApiError) {
    return reply.status(err.status).send(body(err.code, err.message, err.details));
  }
  if (err.validation) {
    const issues = err.validation as ValidationIssue[];
    const fields = issues.map((i) => ({
      field: fieldName(err.validationContext, i),
      in: err.validationContext,
      message: validationMessage(i),
    }));
    const first = fields[0];
    return reply.status(400).send(
      body('INVALID_INPUT', first ? `${first.field} ${first.message}` : 'the request is invalid', {
        fields,
      }),
    );
  }
  // The client should retry, not see a 500.
  const status = isUnavailable(err) ? 503 : (err.statusCode ?? 500);
  if (status === 413) {
    // A route may raise the server's 1 MiB limit (the R-compatible /irt routes do).
    const limit = request.routeOptions.bodyLimit ?? 1024 * 1024;
    return reply
      .status(413)
      .send(
        body('PAYLOAD_TOO_LARGE', `the request body is larger than the ${limit / (1024 * 1024)} MiB limit`),
      );
  }
  if (status === 415) {
    return reply.status(415).send(body('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
  }
  if (status >= 400 && status < 500) {
    const code =
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
        ? 'MALFORMED_JSON'
        : 'BAD_REQUEST';
    const message =
      code === 'MALFORMED_JSON' ? 'the request body is not valid JSON' : 'the request is invalid';
    return reply.status(status).send(body(code, message));
  }
  request.log.error({ err }, 'request failed');
  return reply
    .status(status >= 500 && status < 600 ? status : 500)
    .send(
      body(
        status === 503 ? 'UNAVAILABLE' : 'INTERNAL',
        status === 503
          ? 'the service is temporarily unavailable, retry later'
          : 'an internal error occurred; it has been logged',
      ),
    );
}

/** Installs the one error handler and the 404 handler on the root instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handle);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(body('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (headers over Node's 16 KiB,
 * a request that does not arrive in time, bytes that are not HTTP): answered in the one shape.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['HEADERS_TOO_LARGE', 'the request headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'the request did not arrive in time']
        : ['BAD_REQUEST', 'the request is not valid HTTP'];
  const status = statusOf(code);
  const text = JSON.stringify(body(code, message));
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  } else {
    socket.destroy();
  }
}
