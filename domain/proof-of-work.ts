/**
 * The rule both sides of the waiting room's proof of work apply: a nonce
 * solves a challenge when sha256(challenge ":" nonce) starts with at least
 * `difficulty` zero bits. The server checks it (services/pow.ts); the buyer's
 * browser searches for it (web/page/proof-of-work.ts).
 */
export const powInput = (challenge: string, nonce: string | number) => `${challenge}:${nonce}`;

export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(byte) - 24;
    break;
  }
  return bits;
}
