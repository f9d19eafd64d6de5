// Shared fixture of the API tests: a fresh migrated database, a test configuration with an HS256
// secret, a server built on both, and tokens minted with the configured secret.
import type { FastifyInstance } from 'fastify';
import type { SessionCompletedHook } from '../../../src/api/route-deps.js';
import { buildServer } from '../../../src/api/server.js';
import { mintToken } from '../../../src/api/tokens.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const ISSUER = 'seedtest-test';
export const AUDIENCE = 'seedtest-api';

export function testConfig(extra: Record<string, string> = {}) {
  return loadConfig({
    JWT_SECRET: SECRET,
    JWT_ISS: ISSUER,
    JWT_AUD: AUDIENCE,
    LOG_LEVEL: 'silent',
    DATA_DIR: '/tmp/seedtest-api-test',
    ...extra,
  });
}

export interface Fixture {
  app: FastifyInstance;
  database: TestDatabase;
  completed: Array<[string, string]>;
  close(): Promise<void>;
}

/** `hook`: called after `completed` records a completion (the θ-update queue in its tests). */
export async function createFixture(
  extra: Record<string, string> = {},
  hook?: SessionCompletedHook,
): Promise<Fixture> {
  const database = await createTestDatabase();
  const completed: Array<[string, string]> = [];
  const onSessionCompleted: SessionCompletedHook = async (userId, sessionId) => {
    completed.push([userId, sessionId]);
    await hook?.(userId, sessionId);
  };
  const app = buildServer({
    config: testConfig(extra),
    database,
    logger: createLogger('silent', false),
    metrics: createMetrics(),
    onSessionCompleted,
  });
  await app.ready();
  return {
    app,
    database,
    completed,
    async close() {
      await app.close();
      await database.close();
    },
  };
}

export function token(sub: string, scope: string, extra: { audience?: string } = {}): Promise<string> {
  return mintToken({
    secret: SECRET,
    sub,
    scope,
    ttl: '1h',
    issuer: ISSUER,
    audience: extra.audience ?? AUDIENCE,
  });
}

export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Two topics and three items. */
export async function seedItems(database: TestDatabase): Promise<void> {
  await database.db
    .insertInto('topic')
    .values([
      { topic_id: 'algebra', name: 'Algebra' },
      { topic_id: 'geometry', name: 'Geometry' },
    ])
    .execute();
  await database.db
    .insertInto('item')
    .values([
      { item_id: 'i1', topic_id: 'algebra' },
      { item_id: 'i2', topic_id: 'algebra' },
      { item_id: 'i3', topic_id: 'geometry' },
    ])
    .execute();
}
