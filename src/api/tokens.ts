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
}

export async function mintToken(o: MintOptions): Promise<string> {
  let jwt = new SignJWT({ scope: o.scope, ...(o.orgId ? { org_id: o.orgId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(o.ttl);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
