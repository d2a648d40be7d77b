/**
 * Admission tokens: proof that the waiting room admitted this buyer to this
 * event. HS256-signed, short-lived, bound to buyer and event, and single-use:
 * the first successful hold consumes the token's id in Redis.
 */
import type Redis from 'ioredis';
import { jwtVerify, SignJWT } from 'jose';

export interface Admission {
  jti: string;
  buyerId: string;
  eventId: string;
  position: number;
  expiresAt: number;
}

const AUDIENCE = 'onsale-hold';

export class AdmissionTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly redis: Redis,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** The token's id derives from the admission, so polling again yields the same single-use admission. */
  async issue(a: { buyerId: string; eventId: string; position: number; expiresAtMs: number }): Promise<string> {
    return new SignJWT({ evt: a.eventId, pos: a.position })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(a.buyerId)
      .setAudience(AUDIENCE)
      .setJti(`${a.buyerId}.${a.expiresAtMs}`)
      .setIssuedAt()
      .setExpirationTime(Math.floor(a.expiresAtMs / 1000))
      .sign(this.key);
  }

  /** Returns the admission when the token is genuine, unexpired, unused and bound to this buyer and event. */
  async verify(token: string | undefined, buyerId: string, eventId: string): Promise<Admission | null> {
    if (!token || token.length > 2048) return null;
    try {
      const { payload } = await jwtVerify(token, this.key, { audience: AUDIENCE, algorithms: ['HS256'] });
      if (payload.sub !== buyerId || payload.evt !== eventId || typeof payload.jti !== 'string') return null;
      if (await this.redis.exists(usedKey(eventId, payload.jti))) return null;
      return {
        jti: payload.jti,
        buyerId,
        eventId,
        position: Number(payload.pos),
        expiresAt: (payload.exp ?? 0) * 1000,
      };
    } catch {
      return null;
    }
  }

  /** Marks the token used; false when it already was. */
  async consume(a: Admission): Promise<boolean> {
    const ttl = Math.max(60, Math.ceil((a.expiresAt - Date.now()) / 1000) + 60);
    return (await this.redis.set(usedKey(a.eventId, a.jti), a.buyerId, 'EX', ttl, 'NX')) === 'OK';
  }
}

const usedKey = (eventId: string, jti: string) => `wr:{${eventId}}:used:${jti}`;
