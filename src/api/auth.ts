// Authentication and authorisation: Bearer JWTs verified with jose against the key the
// configuration names (the algorithm is pinned, never read from the token), scope checks, the
// own-data rule, and the internal token of the R-compatible routes.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, importSPKI, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type Config, ConfigError } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { ApiError } from './errors.js';

export type AuthConfig = Config['auth'];

export const SCOPES = [
  'exam:write',
  'exam:read',
  'reports:view',
  'cohort:view',
  'analysis:run',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  sub: string;
  scopes: ReadonlySet<string>;
  org_id: string | undefined;
  roles: readonly string[];
  /** The `cohorts` claim: the cohorts a `cohort:view` token (a teacher's) may see. */
  cohorts: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<Principal>;
  }
}

const DISABLED_PRINCIPAL: Principal = Object.freeze({
  sub: 'auth-disabled',
  scopes: new Set<string>(['admin']),
  org_id: undefined,
  roles: Object.freeze(['admin']),
  cohorts: Object.freeze([]),
});

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}

/** A learner may touch only its own data; `elevatedScope` (or admin) may touch anyone's. */
export function assertOwnOrScope(principal: Principal, userId: string, elevatedScope: Scope): void {
  if (principal.sub === userId || hasScope(principal, elevatedScope)) return;
  throw new ApiError('NOT_YOUR_DATA', `this token may not access data of user ${userId}`);
}

/** Throws when no verification key is configured and auth is not disabled: the server must not start. */
export function assertAuthKey(auth: AuthConfig): void {
  if (auth.disabled) return;
  if (auth.algorithm === 'HS256' && !auth.secret) {
    throw new ConfigError(
      'no JWT key configured: set JWT_SECRET (HS256), JWT_PUBLIC_KEY or JWT_JWKS_URL (RS256/ES256), ' +
        'or AUTH_DISABLED=true for local development only',
    );
  }
  if (auth.algorithm !== 'HS256' && !auth.jwksUrl && !auth.publicKey) {
    throw new ConfigError(
      `JWT_ALGORITHM=${auth.algorithm} needs JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL; no key is configured`,
    );
  }
}

/** The verification key (assertAuthKey has passed). */
function resolveKey(auth: AuthConfig): Promise<JWTVerifyGetKey> {
  if (auth.algorithm === 'HS256') {
    const secret = new TextEncoder().encode(auth.secret);
    return Promise.resolve(async () => secret);
  }
  if (auth.jwksUrl) return Promise.resolve(createRemoteJWKSet(new URL(auth.jwksUrl)));
  return importSPKI(auth.publicKey!.replaceAll('\\n', '\n'), auth.algorithm).then((key) => async () => key);
}

/** A claim given as an array of strings or as one space-separated string (as `scope` is). */
function stringList(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((r): r is string => typeof r === 'string');
  return typeof claim === 'string' ? claim.split(/\s+/).filter(Boolean) : [];
}

function principalOf(payload: JWTPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new ApiError('INVALID_TOKEN', 'the token has no sub claim');
  }
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const roles = stringList(payload.roles);
  return {
    sub: payload.sub,
    scopes: new Set(scope.split(/\s+/).filter(Boolean)),
    org_id: typeof payload.org_id === 'string' ? payload.org_id : undefined,
    roles,
    cohorts: stringList(payload.cohorts),
  };
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

/**
 * Decorates the app with `authenticate(request)` and requests with `principal`. Throws at once when
 * no key is configured and auth is not disabled; a key that does not import fails `app.ready()`.
 */
export function registerAuth(app: FastifyInstance, auth: AuthConfig, logger: Logger): void {
  app.decorateRequest('principal', null);
  if (auth.disabled) {
    logger.warn(
      'AUTH_DISABLED=true: EVERY REQUEST IS TREATED AS AN ADMIN. Never run this way outside local development.',
    );
    app.decorate('authenticate', async (request: FastifyRequest) => {
      request.principal = DISABLED_PRINCIPAL;
      return DISABLED_PRINCIPAL;
    });
    return;
  }
  assertAuthKey(auth);
  const key = resolveKey(auth);
  // Surfaces a bad PEM at start-up instead of on the first request.
  app.addHook('onReady', async () => void (await key));
  const options = {
    algorithms: [auth.algorithm],
    requiredClaims: ['exp'],
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  app.decorate('authenticate', async (request: FastifyRequest) => {
    if (request.principal) return request.principal;
    const token = bearer(request);
    if (!token) {
      throw new ApiError('UNAUTHENTICATED', 'send a token as Authorization: Bearer <jwt>');
    }
    const getKey = await key;
    let payload: JWTPayload;
    try {
      payload = (await jwtVerify(token, getKey, options)).payload;
    } catch (err) {
      request.log.info({ reason: (err as { code?: string }).code }, 'token rejected');
      throw new ApiError('INVALID_TOKEN', 'the token is invalid or expired');
    }
    request.principal = principalOf(payload);
    return request.principal;
  });
}

/** A preHandler: authenticates and requires one of `anyOf` (admin implies all). */
export function requireScope(...anyOf: Scope[]) {
  const check = async (request: FastifyRequest): Promise<void> => {
    const principal = await request.server.authenticate(request);
    if (anyOf.length === 0 || anyOf.some((s) => hasScope(principal, s))) return;
    throw new ApiError('INSUFFICIENT_SCOPE', `this route needs the scope ${anyOf.join(' or ')}`);
  };
  // Read back by the API reference (scopesOf), so the documented scopes are the enforced ones.
  return Object.assign(check, { scopes: anyOf as readonly Scope[] });
}

/** The scopes a route's requireScope preHandler demands, or undefined when it has none. */
export function scopesOf(preHandler: unknown): readonly Scope[] | undefined {
  const handlers: unknown[] = [preHandler].flat();
  const guard = handlers.find(
    (h): h is { scopes: readonly Scope[] } => typeof h === 'function' && 'scopes' in h,
  );
  return guard?.scopes;
}

/** The authenticated principal of a route guarded by requireScope. */
export function principalOfRequest(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is not guarded by requireScope');
  return request.principal;
}

/** Constant-time comparison of a presented token with the configured internal token. */
export function internalTokenMatches(expected: string | undefined, presented: string | undefined): boolean {
  if (!expected || !presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  // timingSafeEqual needs equal lengths; comparing `a` with itself keeps the timing uniform.
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(a, a);
}

/** A preHandler for the R-compatible routes: R_IRT_INTERNAL_TOKEN as Bearer or X-Internal-Token. */
export function requireInternalToken(auth: AuthConfig) {
  return async (request: FastifyRequest): Promise<void> => {
    if (auth.disabled) return;
    const header = request.headers['x-internal-token'];
    const presented = bearer(request) ?? (typeof header === 'string' ? header : undefined);
    if (!internalTokenMatches(auth.internalToken, presented)) {
      throw new ApiError(
        'INVALID_TOKEN',
        'send R_IRT_INTERNAL_TOKEN as Authorization: Bearer or X-Internal-Token',
      );
    }
  };
}
