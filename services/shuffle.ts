/**
 * The pre-queue shuffle: an unbiased Fisher–Yates driven by HMAC-SHA256 of a
 * recorded seed, so anyone holding the seed and the arrival list can
 * recompute the order. Uniform integers come from rejection sampling, which
 * avoids the modulo bias of `random % n`.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Seeds come from the CSPRNG 128 at a time: a join asks for one each time (only the sealing join keeps it). */
let seedPool = Buffer.alloc(0);
let seedAt = 0;

export function newSeed(): string {
  if (seedAt + 32 > seedPool.length) {
    seedPool = randomBytes(32 * 128);
    seedAt = 0;
  }
  const seed = seedPool.toString('hex', seedAt, seedAt + 32);
  seedAt += 32;
  return seed;
}

class SeededStream {
  private counter = 0;
  private buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly seed: string) {}

  private next32(): number {
    if (this.offset + 4 > this.buffer.length) {
      this.buffer = createHmac('sha256', this.seed).update(String(this.counter++)).digest();
      this.offset = 0;
    }
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    const limit = Math.floor(0x1_0000_0000 / n) * n;
    for (;;) {
      const v = this.next32();
      if (v < limit) return v % n;
    }
  }
}

export function shuffle<T>(items: readonly T[], seed: string): T[] {
  const out = items.slice();
  const stream = new SeededStream(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function orderDigest(order: readonly string[]): string {
  return createHash('sha256').update(order.join('\n')).digest('hex');
}
