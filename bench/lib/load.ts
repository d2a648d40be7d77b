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

/** What both generators record per finished operation, and the result they make of it. */
class Recorder {
  private readonly timeline = new Timeline();
  private readonly outcomes: Record<string, number> = {};
  private readonly latencies: number[] = [];
  private readonly byOutcome: Record<string, number[]> = {};
  private done = 0;

  constructor(private readonly onTick?: (done: number) => void) {}

  get startedAt(): number {
    return this.timeline.startedAt;
  }

  /** One operation ended at `endedAt` with `outcome`, `ms` after it started (or was due). */
  add(outcome: string, ms: number, endedAt: number): void {
    this.latencies.push(ms);
    (this.byOutcome[outcome] ??= []).push(ms);
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    this.timeline.add(outcome, endedAt);
    this.done++;
    if (this.onTick && this.done % 50 === 0) this.onTick(this.done);
  }

  result(since: number, keepLatencies = false): LoadResult {
    const seconds = (performance.now() - since) / 1000;
    const rates: Record<string, number> = {};
    for (const [k, n] of Object.entries(this.outcomes)) rates[k] = Math.round((n / seconds) * 10) / 10;
    const t = this.timeline;
    return {
      outcomes: this.outcomes,
      seconds: Math.round(seconds * 100) / 100,
      rates,
      latency: summarize(this.latencies),
      latencyByOutcome: Object.fromEntries(Object.entries(this.byOutcome).map(([k, v]) => [k, summarize(v)])),
      timeline: Object.fromEntries([...t.buckets.keys()].map((k) => [k, t.rates(k)])),
      ...(keepLatencies && { latencies: this.latencies }),
    };
  }
}

/** Runs `op`, turning a throw into the outcome 'error'. */
async function outcomeOf(op: () => Promise<string>): Promise<string> {
  try {
    return await op();
  } catch {
    return 'error';
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const recorder = new Recorder(o.onTick);
  const deadline = performance.now() + o.durationMs;
  const maxOps = o.maxOps ?? Number.MAX_SAFE_INTEGER;
  let issued = 0;
  const loops = Array.from({ length: o.concurrency }, async (_, loop) => {
    while (performance.now() < deadline && issued < maxOps) {
      const seq = issued++;
      const t0 = performance.now();
      const outcome = await outcomeOf(() => o.op(loop, seq));
      const t1 = performance.now();
      recorder.add(outcome, t1 - t0, t1);
    }
  });
  const started = recorder.startedAt;
  await Promise.all(loops);
  return recorder.result(started, o.keepLatencies);
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
  const recorder = new Recorder(o.onTick);
  const interval = 1000 / o.ratePerSecond;
  const start = performance.now();
  let inFlight = 0;
  let dropped = 0;
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
        const outcome = await outcomeOf(() => o.op(seq));
        const t1 = performance.now();
        inFlight--;
        recorder.add(outcome, t1 - due, t1);
      })(),
    );
  }
  await Promise.all(running);
  return { ...recorder.result(start), dropped, offeredPerSecond: o.ratePerSecond };
}
