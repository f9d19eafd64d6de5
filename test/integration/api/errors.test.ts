import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildServer } from '../../../src/api/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { bearer, testConfig, token } from './setup.js';

/** A database whose every transaction fails with `error`. */
function failingDatabase(error: Error): Parameters<typeof buildServer>[0]['database'] {
  const fail = () => Promise.reject(error);
  return {
    kind: 'server',
    db: { transaction: () => ({ execute: fail }) },
    query: fail,
    exec: fail,
    close: async () => {},
  } as unknown as Parameters<typeof buildServer>[0]['database'];
}

async function createSession(error: Error) {
  const app = buildServer({
    config: testConfig(),
    database: failingDatabase(error),
    logger: createLogger('silent', false),
    metrics: createMetrics(),
  });
  const res = await app.inject({
    method: 'POST',
    url: '/api/seedtest/sessions',
    headers: bearer(await token('alice', 'exam:write')),
    payload: {},
  });
  const ready = await app.inject({ url: '/ready' });
  await app.close();
  return { res, ready };
}

describe('server failures', () => {
  it('answers 500 INTERNAL without leaking the error', async () => {
    const { res } = await createSession(new Error('relation "secret_table" password=hunter2'));
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'INTERNAL');
    assert.doesNotMatch(res.body, /secret_table|hunter2/);
  });

  it('answers 503 when the database is unreachable, and /ready fails', async () => {
    const { res, ready } = await createSession(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    );
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'UNAVAILABLE');
    assert.doesNotMatch(res.body, /127\.0\.0\.1/);
    assert.equal(ready.statusCode, 503);
  });
});
