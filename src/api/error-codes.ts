// The error catalogue: every code the HTTP API answers, with its status and when. ApiError takes a
// code and gets its status here; the OpenAPI document lists each route's codes from here; a test
// keeps it equal to the table in docs/api.md.
export const ERROR_CODES = {
  INVALID_INPUT: [400, 'a field is missing, malformed or not allowed; details.fields names each'],
  MALFORMED_JSON: [400, 'the body is not valid JSON'],
  UNAUTHENTICATED: [401, 'no Authorization: Bearer token'],
  INVALID_TOKEN: [401, 'the token is invalid or expired'],
  INSUFFICIENT_SCOPE: [403, 'the token lacks the scope the route needs'],
  NOT_YOUR_DATA: [403, 'another learner’s data without analysis:run'],
  SESSION_NOT_FOUND: [404, 'no such session'],
  ITEM_NOT_FOUND: [404, 'no such item'],
  CALIBRATION_NOT_FOUND: [404, 'no such calibration run'],
  COHORT_NOT_FOUND: [404, 'no such cohort'],
  LEARNER_NOT_FOUND: [404, 'no such learner'],
  COHORT_FORBIDDEN: [403, 'a cohort the teacher’s token does not list'],
  NO_EXPOSURE: [404, 'no adaptive session was served from that calibration run'],
  REPORT_NOT_FOUND: [404, 'no such report, or its file is gone'],
  UNKNOWN_JOB: [404, 'no job of that name'],
  NOT_FOUND: [404, 'no such job run'],
  NO_RESPONSES: [404, 'the learner has no responses in the window'],
  NO_ACTIVITY: [404, 'no activity to compute from'],
  SESSION_EXISTS: [409, 'the session id belongs to another learner'],
  SESSION_CLOSED: [409, 'the session is completed or abandoned'],
  SESSION_ABANDONED: [409, 'the session was abandoned'],
  ATTEMPT_CONFLICT: [
    409,
    'a client_attempt_id already recorded with other content; details.client_attempt_ids',
  ],
  ITEM_NOT_SERVED: [409, 'an adaptive session answered an item next-item did not serve; details.item_ids'],
  NOT_ADAPTIVE: [409, 'next-item of a session not created with mode "adaptive"'],
  NO_CALIBRATION: [409, 'no calibration has succeeded yet'],
  NO_EXPOSURE_PARAMS: [409, 'an adaptive session uses Sympson–Hetter and no parameters were imported'],
  PAYLOAD_TOO_LARGE: [413, 'the body is over the size limit'],
  UNKNOWN_ITEMS: [
    422,
    'attempts or a Sympson–Hetter import name items the bank does not have; details.item_ids lists them',
  ],
  WEEK_NOT_STARTED: [422, 'the week has not started yet'],
  CALIBRATION_FAILED: [422, 'the data cannot be calibrated; the message says why'],
  UNAVAILABLE: [503, 'the database does not answer; retry later'],
  BAD_REQUEST: [400, 'a request Node’s HTTP parser or the router refuses (not valid HTTP)'],
  BAD_URL: [400, 'the URL is malformed'],
  URL_TOO_LONG: [414, 'a path segment is longer than 256 characters'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'the body is not application/json'],
  REQUEST_TIMEOUT: [408, 'the request did not arrive in time'],
  HEADERS_TOO_LARGE: [431, 'the request headers are larger than 16 KiB'],
  INTERNAL: [500, 'a bug: a generic message; the error is logged with the request id'],
  NOT_READY: [503, 'readiness failed: the database does not answer or its schema is behind'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const statusOf = (code: ErrorCode): number => ERROR_CODES[code][0];

/** Codes the server answers outside any route's own logic (the HTTP parser, the router, a bug). */
export const TRANSPORT_CODES = [
  'BAD_REQUEST',
  'BAD_URL',
  'URL_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  'REQUEST_TIMEOUT',
  'HEADERS_TOO_LARGE',
  'INTERNAL',
  'NOT_READY',
] as const satisfies readonly ErrorCode[];
