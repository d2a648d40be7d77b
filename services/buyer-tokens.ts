/**
 * Buyer identity. Development mode signs its own HS256 tokens
 * (POST /v1/dev/buyers); production verifies tokens from the configured
 * issuer's JWKS. Either way the buyer id is the token's `sub`.
 */
import { createSecretKey } from 'node:crypto';
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
  /** The buyer of a token verified recently, from the cache alone: null when it would have to be verified. */
  known(token: string): Buyer | null;
  /** Development only. */
  issue?(buyer: Buyer): Promise<string>;
}

const DEV_TOKEN_TTL = '24h';

/**
 * Tokens verified recently, by their exact text: a buyer polling the queue
 * sends the same token every few seconds, and checking its signature again
 * each time was the largest cost of `GET /queue/me`. An entry lives until the
 * token expires or for `ttlMs`, whichever is sooner (so a key withdrawn from
 * the issuer's JWKS stops working within that time); failures are never kept.
 *
 * The size follows from the pollers one process serves: the buyer page polls
 * every 2 s and a process answers about 20,000 polls a second, so 40,000
 * buyers cycle through it. A cache smaller than the cycle misses on every
 * poll (each token is evicted just before it comes back), so it holds
 * 100,000 (a few hundred bytes each, the token itself most of it: about
 * 40 MB when full).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { buyer: Buyer; until: number }>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly ttlMs = 60_000,
  ) {}

  get(token: string, now = Date.now()): Buyer | null {
    const hit = this.entries.get(token);
    if (!hit) return null;
    if (hit.until > now) return hit.buyer;
    this.entries.delete(token);
    return null;
  }

  set(token: string, buyer: Buyer, expiresAtSeconds: number | undefined, now = Date.now()): void {
    const until = Math.min(now + this.ttlMs, expiresAtSeconds === undefined ? Infinity : expiresAtSeconds * 1000);
    if (until <= now) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { buyer, until });
  }
}

/** Verification through the cache: a hit costs a map lookup, a miss verifies and remembers a success. */
function cached(
  verify: (token: string) => Promise<{ buyer: Buyer; exp: number | undefined } | null>,
): Pick<BuyerTokens, 'verify' | 'known'> {
  const seen = new VerifiedTokens();
  return {
    async verify(token) {
      const hit = seen.get(token);
      if (hit) return hit;
      const ok = await verify(token);
      if (!ok) return null;
      seen.set(token, ok.buyer, ok.exp);
      return ok.buyer;
    },
    known: (token) => seen.get(token),
  };
}

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
    return cached(async (token) => {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, audience });
        const buyer = toBuyer(payload);
        return buyer && { buyer, exp: payload.exp };
      } catch {
        return null;
      }
    });
  }

  // One KeyObject for every verification: given raw bytes, jose builds a new one per call.
  const key = createSecretKey(new TextEncoder().encode(opts.secret));
  return {
    ...cached(async (token) => {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: opts.issuer, audience, algorithms: ['HS256'] });
        const buyer = toBuyer(payload);
        return buyer && { buyer, exp: payload.exp };
      } catch {
        return null;
      }
    }),
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
