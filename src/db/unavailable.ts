// Whether a database error means "not reachable now" (a retry may succeed) rather than "this statement
// is wrong": the API answers 503 and the CLI one line. Imports nothing, so both can ask cheaply.

/** Connection failures of the database drivers (refused, reset, terminated backend, too many clients). */
const UNAVAILABLE_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P0[1-3]|08\d{3}|53300)$/;
/** node-postgres's own errors for a connection it lost (a cut socket, a reused dead client): no code. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed)/;

export function isUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return UNAVAILABLE_CODES.test(String(code ?? '')) || CONNECTION_LOST.test(String(message ?? ''));
}
