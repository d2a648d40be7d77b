/**
 * Buyer identity. Development mode signs its own HS256 tokens
 * (POST /v1/dev/buyers); production verifies tokens from the configured
 * issuer's JWKS. Either way the buyer id is the token's `sub`.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';

export interface Buyer {
  buyerId: string;
  name: string;
  email: string;
  /**
   * The `verified_id` claim: the person the identity provider verified behind
   * this account. Several accounts of one person carry the same value.
   */
  verifiedIdentity?: string;
  /** The `risk` claim: the identity provider's score of the account, 0 (trusted) to 1 (a bot). */
  risk?: number;
}

export interface BuyerTokens {
  verify(token: string): Promise<Buyer | null>;
  /** Development only. */
  issue?(buyer: Buyer): Promise<string>;
}

const DEV_TOKEN_TTL = '24h';

export function createBuyerTokens(opts: {
  mode: 'development' | 'production';
  secret: string;
  issuer: string;
  jwksUrl?: string;
}): BuyerTokens {
  const audience = 'onsale-api';
  const toBuyer = (p: Record<string, unknown>): Buyer | null => {
    const sub = p.sub;
    if (typeof sub !== 'string' || !/^[A-Za-z0-9_|:.-]{3,100}$/.test(sub)) return null;
    return {
      buyerId: sub,
      name: typeof p.name === 'string' ? p.name.slice(0, 100) : sub,
      email: typeof p.email === 'string' ? p.email.slice(0, 200) : `${sub.replace(/[^A-Za-z0-9_.-]/g, '_')}@buyers.invalid`,
      ...(typeof p.verified_id === 'string' && /^[A-Za-z0-9_|:.-]{3,100}$/.test(p.verified_id) && { verifiedIdentity: p.verified_id }),
      // A malformed score reads as the riskiest, so a broken signal fails closed.
      ...(p.risk !== undefined && { risk: typeof p.risk === 'number' && p.risk >= 0 && p.risk <= 1 ? p.risk : 1 }),
    };
  };

  if (opts.mode === 'production') {
    const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(opts.jwksUrl!));
    return {
      async verify(token) {
        try {
          const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, audience });
          return toBuyer(payload);
        } catch {
          return null;
        }
      },
    };
  }

  const key = new TextEncoder().encode(opts.secret);
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: opts.issuer, audience, algorithms: ['HS256'] });
        return toBuyer(payload);
      } catch {
        return null;
      }
    },
    async issue(buyer) {
      return new SignJWT({
        name: buyer.name,
        email: buyer.email,
        ...(buyer.verifiedIdentity && { verified_id: buyer.verifiedIdentity }),
        ...(buyer.risk !== undefined && { risk: buyer.risk }),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(buyer.buyerId)
        .setIssuer(opts.issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(DEV_TOKEN_TTL)
        .sign(key);
    },
  };
}
