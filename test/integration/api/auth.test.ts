import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { internalTokenMatches } from '../../../src/api/auth.js';
import { buildServer } from '../../../src/api/server.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { AUDIENCE, bearer, createFixture, type Fixture, ISSUER, SECRET, token } from './setup.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('authentication', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  const create = (headers: Record<string, string>) =>
    f.app.inject({ method: 'POST', url: '/api/seedtest/sessions', headers, payload: {} });

  async function expect401(headers: Record<string, string>, code = 'INVALID_TOKEN') {
    const res = await create(headers);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.json().error.code, code);
  }

  it('refuses a request without a token', async () => {
    await expect401({}, 'UNAUTHENTICATED');
    await expect401({ authorization: 'Basic abc' }, 'UNAUTHENTICATED');
  });

  it('refuses a bad signature', async () => {
    const t = await new SignJWT({ scope: 'exam:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters!!'));
    await expect401(bearer(t));
  });

  it('refuses an expired token and a token without exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ scope: 'exam:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(SECRET));
    await expect401(bearer(expired));
    const noExp = await new SignJWT({ scope: 'exam:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(new TextEncoder().encode(SECRET));
    await expect401(bearer(noExp));
  });

  it("refuses alg 'none' and an algorithm other than the pinned one", async () => {
    const claims = {
      sub: 'alice',
      scope: 'admin',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 3600,
    };
    await expect401(bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`));
    const hs512 = await new SignJWT({ scope: 'admin' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await expect401(bearer(hs512));
  });

  it('refuses a wrong audience or issuer', async () => {
    await expect401(bearer(await token('alice', 'exam:write', { audience: 'someone-else' })));
    const wrongIss = await new SignJWT({ scope: 'exam:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer('elsewhere')
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await expect401(bearer(wrongIss));
  });

  it('refuses a token without the scope (403) and accepts admin for everything', async () => {
    const res = await create(bearer(await token('alice', 'reports:view exam:read')));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'INSUFFICIENT_SCOPE');
    const admin = await create(bearer(await token('root', 'admin')));
    assert.equal(admin.statusCode, 201);
  });
});

describe('auth configuration', () => {
  const deps = { logger: createLogger('silent', false), metrics: createMetrics() };
  const database = {} as Parameters<typeof buildServer>[0]['database'];

  it('refuses to build a server with no key configured', () => {
    assert.throws(
      () => buildServer({ ...deps, database, config: loadConfig({ LOG_LEVEL: 'silent' }) }),
      /no JWT key configured/,
    );
  });

  it('treats every request as admin with AUTH_DISABLED=true', async () => {
    const app = buildServer({
      ...deps,
      metrics: createMetrics(),
      database,
      config: loadConfig({ LOG_LEVEL: 'silent', AUTH_DISABLED: 'true' }),
    });
    const principal = await app.authenticate({} as Parameters<typeof app.authenticate>[0]);
    assert.equal(principal.scopes.has('admin'), true);
    await app.close();
  });

  it('verifies RS256 tokens against a PEM public key and refuses HS256 ones', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const app = buildServer({
      ...deps,
      metrics: createMetrics(),
      database,
      config: loadConfig({ LOG_LEVEL: 'silent', JWT_PUBLIC_KEY: await exportSPKI(publicKey) }),
    });
    await app.ready();
    const rs = await new SignJWT({ scope: 'exam:read', org_id: 'org-1', roles: ['teacher'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('erin')
      .setExpirationTime('1h')
      .sign(privateKey);
    const principal = await app.authenticate({ headers: bearer(rs) } as never);
    assert.equal(principal.sub, 'erin');
    assert.equal(principal.org_id, 'org-1');
    assert.deepEqual(principal.roles, ['teacher']);
    assert.ok(principal.scopes.has('exam:read'));
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('erin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    await assert.rejects(
      app.authenticate({ headers: bearer(hs), log: app.log } as never),
      /invalid or expired/,
    );
    await app.close();
  });

  it('compares the internal token exactly', () => {
    assert.equal(internalTokenMatches('s3cret-token', 's3cret-token'), true);
    assert.equal(internalTokenMatches('s3cret-token', 's3cret-tokem'), false);
    assert.equal(internalTokenMatches('s3cret-token', 'short'), false);
    assert.equal(internalTokenMatches(undefined, 'x'), false);
    assert.equal(internalTokenMatches('x', undefined), false);
  });
});
