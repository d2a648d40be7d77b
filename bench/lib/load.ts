/**
 * A closed-loop load generator: `concurrency` loops each issue one operation
 * after another until the time or count budget runs out. Every loop is
 * bounded in both, so a run always stops by itself.
 */
import { type LatencySummary, summarize, Timeline } from './stats';

export interface LoadResult {
  /** Operations finished per outcome label (e.g. "ok", "rejected", "error"). */
  outcomes: Record<string, number>;
  seconds: number;
  /** Operations per second per outcome. */
  rates: Record<string, number>;
  latency: LatencySummary;
  latencyByOutcome: Record<string, LatencySummary>;
  timeline: Record<string, [number, number][]>;
  /** Every operation's latency (ms), with `keepLatencies`: what mergeLoads needs to summarise slices together. */
  latencies?: number[];
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  /** Hard cap on operations, whatever the time left. */
  maxOps?: number;
  /** Called with the loop's index and the operation's sequence number; returns an outcome label. */
  op: (loop: number, seq: number) => Promise<string>;
  onTick?: (done: number) => void;
  keepLatencies?: boolean;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const timeline = new Timeline();
  const outcomes: Record<string, number> = {};
  const latencies: number[] = [];
  const byOutcome: Record<string, number[]> = {};
  const deadline = performance.now() + o.durationMs;
  const maxOps = o.maxOps ?? Number.MAX_SAFE_INTEGER;
  let issued = 0;
  let done = 0;
  const loops = Array.from({ length: o.concurrency }, async (_, loop) => {
    while (performance.now() < deadline && issued < maxOps) {
      const seq = issued++;
      const t0 = performance.now();
      let outcome: string;
      try {
        outcome = await o.op(loop, seq);
      } catch {
        outcome = 'error';
      }
      const t1 = performance.now();
      const ms = t1 - t0;
      latencies.push(ms);
      (byOutcome[outcome] ??= []).push(ms);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      timeline.add(outcome, t1);
      done++;
      if (o.onTick && done % 50 === 0) o.onTick(done);
    }
  });
  const started = timeline.startedAt;
  await Promise.all(loops);
  const seconds = (performance.now() - started) / 1000;
  const rates: Record<string, number> = {};
  for (const [k, n] of Object.entries(outcomes)) rates[k] = Math.round((n / seconds) * 10) / 10;
  return {
    outcomes,
    seconds: Math.round(seconds * 100) / 100,
    rates,
    latency: summarize(latencies),
    latencyByOutcome: Object.fromEntries(Object.entries(byOutcome).map(([k, v]) => [k, summarize(v)])),
    timeline: Object.fromEntries([...timeline.buckets.keys()].map((k) => [k, timeline.rates(k)])),
    ...(o.keepLatencies && { latencies }),
  };
}

/** Several slices of one kind of load (run with `keepLatencies`, alternating with other kinds) as one result. */
export function mergeLoads(slices: LoadResult[]): LoadResult {
  const outcomes: Record<string, number> = {};
  const timeline: Record<string, [number, number][]> = {};
  let seconds = 0;
  const latencies: number[] = [];
  for (const r of slices) {
    seconds += r.seconds;
    for (const [k, n] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    for (const [k, points] of Object.entries(r.timeline)) (timeline[k] ??= []).push(...points);
    for (const ms of r.latencies ?? []) latencies.push(ms);
  }
  const rates = Object.fromEntries(Object.entries(outcomes).map(([k, n]) => [k, Math.round((n / seconds) * 10) / 10]));
  return { outcomes, seconds: Math.round(seconds * 100) / 100, rates, latency: summarize(latencies), latencyByOutcome: {}, timeline };
}

/** Runs `fn` over items with at most `width` in flight. */
export async function inParallel<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export interface OpenLoopOptions {
  /** Operations started per second, on a fixed schedule whatever the answers. */
  ratePerSecond: number;
  ops: number;
  /** Operations in flight beyond this are counted as 'dropped' instead of sent (the generator's own limit). */
  maxInFlight: number;
  op: (seq: number) => Promise<string>;
  onTick?: (done: number) => void;
}

/**
 * An open-loop load generator: operations start on a fixed schedule (a
 * latency-at-a-given-load measure, unlike the closed loop above, whose
 * latencies hide a slow server by sending less). Each latency is measured from
 * the moment the operation was due, so a generator that falls behind does not
 * hide the delay (no coordinated omission).
 */
export async function runOpenLoop(o: OpenLoopOptions): Promise<LoadResult & { dropped: number; offeredPerSecond: number }> {
  const timeline = new Timeline();
  const outcomes: Record<string, number> = {};
  const latencies: number[] = [];
  const byOutcome: Record<string, number[]> = {};
  const interval = 1000 / o.ratePerSecond;
  const start = performance.now();
  let inFlight = 0;
  let dropped = 0;
  let done = 0;
  const running: Promise<void>[] = [];
  for (let seq = 0; seq < o.ops; seq++) {
    const due = start + seq * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= o.maxInFlight) {
      dropped++;
      continue;
    }
    inFlight++;
    running.push(
      (async () => {
        let outcome: string;
        try {
          outcome = await o.op(seq);
        } catch {
          outcome = 'error';
        }
        const t1 = performance.now();
        const ms = t1 - due;
        inFlight--;
        latencies.push(ms);
        (byOutcome[outcome] ??= []).push(ms);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        timeline.add(outcome, t1);
        done++;
        if (o.onTick && done % 50 === 0) o.onTick(done);
      })(),
    );
  }
  await Promise.all(running);
  const seconds = (performance.now() - start) / 1000;
  const rates: Record<string, number> = {};
  for (const [k, n] of Object.entries(outcomes)) rates[k] = Math.round((n / seconds) * 10) / 10;
  return {
    outcomes,
    seconds: Math.round(seconds * 100) / 100,
    rates,
    latency: summarize(latencies),
    latencyByOutcome: Object.fromEntries(Object.entries(byOutcome).map(([k, v]) => [k, summarize(v)])),
    timeline: Object.fromEntries([...timeline.buckets.keys()].map((k) => [k, timeline.rates(k)])),
    dropped,
    offeredPerSecond: o.ratePerSecond,
  };
}
