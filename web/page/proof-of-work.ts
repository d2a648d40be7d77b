/** The browser's side of the waiting room's proof of work: searches for a nonce that solves the challenge. */
import { leadingZeroBits, powInput } from '../../domain/proof-of-work';

export async function solveProofOfWork(challenge: string, difficulty: number): Promise<string> {
  const enc = new TextEncoder();
  for (let n = 0; ; n++) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(powInput(challenge, n))));
    if (leadingZeroBits(digest) >= difficulty) return String(n);
  }
}
