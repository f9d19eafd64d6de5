// The contract between the server and its route groups: what every route plugin is given. Routes
// import this file, never server.ts, so the server can import the routes without a circle.
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import type { Metrics } from '../observability/metrics.js';

/** Called after a session is marked completed (the durable θ-update queue plugs in here). */
export type SessionCompletedHook = (userId: string, sessionId: string) => Promise<void> | void;

/** Everything a route group needs, passed as plugin options. */
export interface RouteDeps {
  config: Config;
  database: Database;
  metrics: Metrics;
  onSessionCompleted?: SessionCompletedHook;
}
