// A process without the HTTP API (`seedtest worker`) still needs to be scraped: a bare listener
// with GET /metrics (Prometheus text of the process's registry) and GET /health, nothing else.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  /** http://host:port of the listener. */
  address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => reply(200, metrics.registry.contentType, text),
        () => reply(500, 'application/json', '{"error":{"code":"INTERNAL","message":"metrics unavailable"}}'),
      );
    } else if (req.method === 'GET' && req.url === '/health') {
      reply(200, 'application/json', '{"status":"ok"}');
    } else {
      reply(
        404,
        'application/json',
        '{"error":{"code":"NOT_FOUND","message":"only GET /metrics and GET /health"}}',
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    address: `http://${address.includes(':') ? `[${address}]` : address}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
