/**
 * A map that keeps what was used lately, in bounded memory: entries live in
 * two generations of at most `perGeneration` keys. A write to a full recent
 * generation retires the older one and starts afresh; reading a key from the
 * older generation moves it back into the recent one. So a key survives at
 * least `perGeneration` writes of other keys after its last use, at no cost
 * per operation beyond two Map lookups (no LRU list to keep in order).
 */
export class RecentMap<K, V> {
  private recent = new Map<K, V>();
  private older = new Map<K, V>();

  constructor(private readonly perGeneration: number) {}

  get(key: K): V | undefined {
    const hit = this.recent.get(key);
    if (hit !== undefined) return hit;
    const old = this.older.get(key);
    if (old !== undefined) {
      this.older.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (!this.recent.has(key) && this.recent.size >= this.perGeneration) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(key, value);
  }
}
