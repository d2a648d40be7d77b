/**
 * The buyers of the fairness simulation (bench/adversaries.ts), human and
 * bot, each speaking to the real API the way its kind does: humans think,
 * poll every second or two and buy what they came for with their own card;
 * bots join the instant they can, poll fast, grab the most seats allowed and
 * pay with the farm's cards. Every request names the actor's address in
 * X-Forwarded-For, the header the API trusts from the load generator (one
 * trusted proxy hop, as a CDN would send it).
 */
import { Worker } from 'node:worker_threads';
import { solve } from '../../services/pow';
import type { HttpClient } from './http';

export type Kind = 'human' | 'account_farm' | 'proxy_farm';

export interface ActorSpec {
  kind: Kind;
  buyerId: string;
  token: string;
  ip: string;
  /** The card it pays with (a labelled test card stands for one card number: payments/test-cards.ts). */
  card: string;
  /** Epoch ms at which it sends its join. */
  arriveAtMs: number;
  /** Seats it wants. */
  quantity: number;
}

export interface ActorResult {
  buyerId: string;
  kind: Kind;
  sentJoinAtMs?: number;
  joined: boolean;
  refused?: string;
  admitted: boolean;
  seats: number;
  outcome: string;
  powSolves: number;
  powBits: number[];
}

/** Solves proof-of-work challenges: in this thread, or on a pool of worker threads (one per core the farm has). */
export interface Solver {
  /** The nonce, or null when the solver gave the challenge up (the sale is over). */
  solve(challenge: string, difficulty: number): Promise<string | null>;
  close(): Promise<void>;
}

export const inlineSolver: Solver = { solve: async (c, d) => solve(c, d), close: async () => undefined };

/** Plain JavaScript so the threads need no TypeScript loader; the same rule as domain/proof-of-work.ts. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
function zeros(d) { let b = 0; for (const x of d) { if (x === 0) { b += 8; continue; } b += Math.clz32(x) - 24; break; } return b; }
parentPort.on('message', ({ id, challenge, difficulty }) => {
  for (let n = 0; ; n++) {
    if (zeros(createHash('sha256').update(challenge + ':' + n).digest()) >= difficulty) { parentPort.postMessage({ id, nonce: String(n) }); return; }
  }
});`;

/**
 * Challenges still waiting for a thread when the sale ends (deadlineMs) are
 * given up: a farm stops paying for places nobody will serve, and the CPU it
 * reports is what it spent while the sale ran (and the solves in hand then).
 */
export function threadSolver(threads: number, deadlineMs = Infinity): Solver {
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  const waiting = new Map<number, (nonce: string | null) => void>();
  const idle = [...workers];
  const queue: { id: number; challenge: string; difficulty: number }[] = [];
  let next = 0;
  const dispatch = () => {
    if (Date.now() >= deadlineMs) {
      for (const job of queue.splice(0)) {
        waiting.get(job.id)?.(null);
        waiting.delete(job.id);
      }
    }
    while (idle.length && queue.length) idle.pop()!.postMessage(queue.shift());
  };
  for (const w of workers) {
    w.on('message', ({ id, nonce }: { id: number; nonce: string }) => {
      waiting.get(id)?.(nonce);
      waiting.delete(id);
      idle.push(w);
      dispatch();
    });
  }
  return {
    solve(challenge, difficulty) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        queue.push({ id, challenge, difficulty });
        dispatch();
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunContext {
  http: HttpClient;
  eventId: string;
  solver: Solver;
  deadlineMs: number;
  /** Set by whoever learns the sale is over. */
  soldOut: () => boolean;
  random: () => number;
}

/** One actor's whole visit: join (paying proof of work when asked), wait its turn, hold, pay. */
export async function runActor(a: ActorSpec, ctx: RunContext): Promise<ActorResult> {
  const r: ActorResult = {
    buyerId: a.buyerId,
    kind: a.kind,
    joined: false,
    admitted: false,
    seats: 0,
    outcome: 'pending',
    powSolves: 0,
    powBits: [],
  };
  const human = a.kind === 'human';
  const headers = { 'x-forwarded-for': a.ip };
  const call = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    ctx.http
      .json(method, `/v1/events/${ctx.eventId}${path}`, { token: a.token, body, headers: { ...headers, ...extra } })
      .catch(() => ({ status: 0, body: null as any }));
  const wait = a.arriveAtMs - Date.now();
  if (wait > 0) await sleep(wait);

  r.sentJoinAtMs = Date.now();
  let joined = await call('POST', '/queue', {});
  // Until the sale ends, as the buyer page does and as a farm would: a challenge that went stale while
  // the actor solved it (the line grew, or its solver was busy with other accounts) is solved again.
  while (Date.now() < ctx.deadlineMs) {
    const d = joined.body?.error?.details;
    if (joined.status === 403 && d?.reason === 'proof_of_work') {
      r.powSolves++;
      r.powBits.push(d.difficulty);
      const nonce = await ctx.solver.solve(d.challenge, d.difficulty);
      if (nonce === null) break;
      joined = await call('POST', '/queue', { pow: { challenge: d.challenge, nonce } });
    } else if (joined.status === 503 || joined.status === 0) {
      await sleep(1000);
      joined = await call('POST', '/queue', {});
    } else break;
  }
  if (joined.status !== 201 && joined.status !== 200) {
    r.refused = joined.body?.error?.details?.reason ?? joined.body?.error?.code ?? String(joined.status);
    r.outcome = 'refused';
    return r;
  }
  r.joined = true;

  let admission: string | undefined;
  const every = human ? 1000 + ctx.random() * 1000 : 250;
  while (Date.now() < ctx.deadlineMs && !ctx.soldOut()) {
    const me = await call('GET', '/queue/me');
    if (me.status === 200 && me.body.status === 'admitted' && me.body.admissionToken) {
      admission = me.body.admissionToken;
      break;
    }
    if (me.status === 200 && (me.body.status === 'sold_out' || me.body.status === 'expired')) break;
    await sleep(me.status === 429 ? 1000 + every : every * (0.8 + ctx.random() * 0.4));
  }
  if (!admission) {
    r.outcome = ctx.soldOut() ? 'sold_out' : 'timed_out';
    return r;
  }
  r.admitted = true;
  if (human) await sleep(500 + ctx.random() * 1500); // reading the page, choosing

  let hold: { holdId: string; seatIds: string[] } | null = null;
  // Seats held by others may come back (a hold refused at payment is let go): a person looks again a few times.
  for (let round = 0; round < (human ? 4 : 1) && !hold && Date.now() < ctx.deadlineMs && !ctx.soldOut(); round++) {
    if (round > 0) await sleep(1500 + ctx.random() * 1500);
    for (let q = a.quantity; q >= 1 && !hold && Date.now() < ctx.deadlineMs; q--) {
      const h = await call('POST', '/hold', { quantity: q }, { 'x-admission-token': admission });
      const allowed = h.body?.error?.code === 'LIMIT_EXCEEDED' ? h.body.error.details?.maxSeatsPerBuyer : undefined;
      if (h.status === 201) hold = h.body;
      else if (h.status === 503) await sleep(500);
      // Told it may take fewer seats, any client asks again for that many (the loop's q-- brings it there).
      else if (typeof allowed === 'number' && allowed >= 1 && allowed < q) q = allowed + 1;
      else if (h.status !== 409) break;
    }
  }
  if (!hold) {
    r.outcome = 'no_seats';
    return r;
  }
  if (human) await sleep(1000 + ctx.random() * 2000); // typing card details
  const paid = await call('POST', '/purchase', { holdId: hold.holdId, paymentMethod: a.card });
  if (paid.status === 200) {
    r.seats = hold.seatIds.length;
    r.outcome = 'bought';
  } else {
    r.outcome = paid.body?.error?.details?.reason ?? paid.body?.error?.code ?? `purchase ${paid.status}`;
    // A bot refused at payment lets the seats go at once, to try again elsewhere; they return to sale.
    await call('DELETE', `/hold/${hold.holdId}`);
  }
  return r;
}
