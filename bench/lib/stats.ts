/** Latency summaries and per-second time series, the raw material of every figure. */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(latenciesMs: number[]): LatencySummary {
  const s = [...latenciesMs].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  const r = (n: number) => Math.round(n * 100) / 100;
  return {
    count: s.length,
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1] ?? 0),
    mean: r(s.length ? sum / s.length : 0),
  };
}

/** Counts per time bucket since a start instant, for throughput-over-time charts. */
export class Timeline {
  readonly buckets = new Map<string, number[]>();

  constructor(
    readonly startedAt = performance.now(),
    readonly bucketMs = 1000,
  ) {}

  add(series: string, at = performance.now(), n = 1): void {
    const i = Math.max(0, Math.floor((at - this.startedAt) / this.bucketMs));
    let b = this.buckets.get(series);
    if (!b) this.buckets.set(series, (b = []));
    while (b.length <= i) b.push(0);
    b[i]! += n;
  }

  /** Per-second rates, as points [seconds since start, rate]. */
  rates(series: string): [number, number][] {
    const b = this.buckets.get(series) ?? [];
    return b.map((n, i) => [((i + 1) * this.bucketMs) / 1000, (n * 1000) / this.bucketMs]);
  }
}

/** Sampled values over time, e.g. queue length and serving position. */
export class Gauge {
  readonly points: [number, number][] = [];
  constructor(readonly startedAt = performance.now()) {}
  sample(value: number, at = performance.now()): void {
    this.points.push([Math.round((at - this.startedAt) / 100) / 10, value]);
  }
}

export const round = (n: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 3) : null);

/** A deterministic generator, so a run can be reproduced from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
