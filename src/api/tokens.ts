// Minting development tokens from the configured HS256 secret (`seedtest token`).
import { SignJWT } from 'jose';

export interface MintOptions {
  secret: string;
  sub: string;
  scope: string;
  ttl: string;
  issuer?: string;
  audience?: string;
  orgId?: string;
  /** The cohorts a `cohort:view` token may see (the dashboard's teachers). */
  cohorts?: readonly string[];
}

export async function mintToken(o: MintOptions): Promise<string> {
  let jwt = new SignJWT({
    scope: o.scope,
    ...(o.orgId ? { org_id: o.orgId } : {}),
    ...(o.cohorts?.length ? { cohorts: [...o.cohorts] } : {}),
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(o.ttl);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/**
 * A dashboard sign-in link: the token rides in the fragment, which the browser never sends to the
 * server (so it reaches no access log); the page moves it to session storage and clears the address.
 */
export function dashboardLink(origin: string, token: string): string {
  return `${origin.replace(/\/$/, '')}/dashboard/#token=${token}`;
}

/** The origin a listener on `host:port` is reached at from this machine. */
export function localOrigin(host: string, port: number): string {
  const reachable =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}
