/**
 * Proof of work for joining a waiting room: the client must find a nonce
 * such that sha256(challenge ":" nonce) starts with `difficulty` zero bits.
 * Checking costs one hash; solving costs about 2^difficulty. Challenges are
 * HMACs bound to event, buyer, difficulty and a time window, so the server
 * keeps no state, and a challenge handed out while the line was short cannot
 * be claimed at a higher difficulty than it was solved at.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { leadingZeroBits, powInput } from '../domain/proof-of-work';

const WINDOW_MS = 5 * 60_000;

export class ProofOfWork {
  constructor(private readonly secret: string) {}

  challenge(eventId: string, buyerId: string, difficulty: number, nowMs = Date.now()): string {
    const window = Math.floor(nowMs / WINDOW_MS);
    return `${window}.${difficulty}.${this.mac(eventId, buyerId, window, difficulty)}`;
  }

  private mac(eventId: string, buyerId: string, window: number, difficulty: number): string {
    return createHmac('sha256', this.secret).update(`${eventId}\n${buyerId}\n${window}\n${difficulty}`).digest('base64url').slice(0, 32);
  }

  /**
   * True when the challenge is ours, current (this or the previous window),
   * was issued at `minDifficulty` bits or more, and the nonce solves it at the
   * difficulty it was issued at.
   */
  verify(eventId: string, buyerId: string, challenge: string, nonce: string, minDifficulty: number, nowMs = Date.now()): boolean {
    const [w, d, mac] = challenge.split('.');
    const window = Number(w);
    const difficulty = Number(d);
    const current = Math.floor(nowMs / WINDOW_MS);
    if (!mac || !Number.isInteger(window) || window < current - 1 || window > current) return false;
    if (!Number.isInteger(difficulty) || difficulty < minDifficulty || difficulty > 28) return false;
    const expected = Buffer.from(this.mac(eventId, buyerId, window, difficulty));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    return leadingZeroBits(createHash('sha256').update(powInput(challenge, nonce)).digest()) >= difficulty;
  }
}

/** The client's side, used by tests and the load simulator. */
export function solve(challenge: string, difficulty: number): string {
  for (let n = 0; ; n++) {
    if (leadingZeroBits(createHash('sha256').update(powInput(challenge, n)).digest()) >= difficulty) return String(n);
  }
}
