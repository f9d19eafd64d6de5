// Structured JSON logs (pino); pretty on a terminal. Secrets never reach a log line: the
// redaction list covers the places they could appear.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-internal-token"]',
        '*.password',
        '*.token',
        '*.secret',
      ],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } } : {}),
  });
}
