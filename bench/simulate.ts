/**
 * The flash-crowd simulator: many buyers arriving in a spike, 20 bots per
 * human (Queue-it's reported ratio) on many accounts, skewed seat
 * preferences, abandoners and declined cards, all through the real HTTP API:
 * waiting room, holds and purchases. It ends with the database audit and a
 * fairness report.
 *
 * Run through bench/main.ts: npm run bench -- --quick --only simulate
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { type AuditReport, reconcile } from '../db/audit';
import { createPaymentProvider } from '../payments';
import { loadConfig } from '../platform/config';
import { solve } from '../services/pow';
import { clientAddress, HttpClient } from './lib/http';
import { kendallTauDistance } from './lib/fairness';
import { inParallel } from './lib/load';
import { Gauge, type LatencySummary, rng, round, summarize, Timeline } from './lib/stats';
import { admissionQuery } from '../domain/admission';
import { admissionWorkflowId } from '../domain/ids';
import { countRunActions } from './suites/admission';
import { countActions, onsaleCost } from './suites/temporal';

export interface SimOptions {
  humans: number;
  botsPerHuman: number;
  seats: { rows: number; seatsPerRow: number; sections: number };
  /** Seconds over which humans arrive; most in the first fifth (a spike). */
  arrivalSeconds: number;
  arrivalCurve: 'spike' | 'uniform';
  /** Buyers who start arriving before the sale opens. */
  prequeueSeconds: number;
  abandonShare: number;
  declineShare: number;
  maxSeconds: number;
  holdSeconds: number;
  maxActiveCheckouts: number;
  admitPerMinute: number;
  seed: number;
}

type Kind = 'human' | 'bot';
interface Actor {
  kind: Kind;
  buyerId: string;
  token: string;
  /** The address the API sees (X-Forwarded-For): one per human, one per few bots of the farm. */
  ip: string;
  /** ms after the simulation start at which the actor sends its join. */
  arriveAt: number;
  joinedAt?: number;
  sentJoinAt?: number;
  position?: number;
  admittedAt?: number;
  heldAt?: number;
  outcome: 'pending' | 'bought' | 'abandoned' | 'declined' | 'sold_out' | 'gave_up' | 'timed_out';
  seats: number;
}

export interface SimReport {
  waitingRoom: boolean;
  event: { eventId: string; seats: number };
  actors: { humans: number; bots: number };
  outcomes: Record<Kind, Record<string, number>>;
  requests: Record<string, number>;
  seconds: number;
  ticketsSold: number;
  ticketsToBots: number;
  botShareOfTickets: number | null;
  fairness: {
    /** Everyone who joined; the pre-queue is shuffled on purpose, so this includes that randomness. */
    arrivalVsPosition: ReturnType<typeof kendallTauDistance> | null;
    /** Only buyers who joined after the sale opened: pure first come, first served. */
    arrivalVsPositionAfterOpen: ReturnType<typeof kendallTauDistance> | null;
    arrivalVsAdmission: ReturnType<typeof kendallTauDistance> | null;
    admissionToHoldMs: Record<Kind, LatencySummary>;
  };
  latency: Record<string, LatencySummary>;
  timeline: Record<string, [number, number][]>;
  queue: { queueLength: [number, number][]; servingPosition: [number, number][] };
  actions: {
    total: number;
    byKind: Record<string, number>;
    workflows: number;
    perTicket: number | null;
    cost: ReturnType<typeof onsaleCost> | null;
  };
  /** The admission controller alone, every run of it, against the buyers it admitted (queue and waitlist). */
  admission: { actions: number; byKind: Record<string, number>; runs: number; admitted: number; perThousandAdmitted: number | null } | null;
  audit: AuditReport;
}

/** A bot farm rotates proxies: a handful of accounts per address, under the API's places-per-address cap. */
const BOTS_PER_ADDRESS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Arrival offsets: a spike decays exponentially, most buyers in the first fifth of the window. */
function arrivals(n: number, o: SimOptions, random: () => number): number[] {
  const window = o.arrivalSeconds * 1000;
  return Array.from({ length: n }, () => {
    const x = o.arrivalCurve === 'spike' ? Math.min(1, -Math.log(1 - random() * 0.993) / 5) : random();
    return Math.round(x * window);
  }).sort((a, b) => a - b);
}

/** Transport failures a buyer's page retries: no answer, or the load balancer's word that no replica answered. */
const NO_ANSWER = new Set([0, 502, 504]);

export async function simulate(
  deps: {
    base: string;
    adminToken: string;
    pool: Pool;
    temporal: Client;
    /** Every response the crowd receives (status 0: no answer), with its time on performance.now()'s clock. */
    observe?: (name: string, status: number, at: number) => void;
    /** Called once the crowd's accounts exist and the sale is about to start, with the event. */
    onReady?: (eventId: string) => void;
  },
  o: SimOptions,
  progress: (t: string) => void = () => undefined,
): Promise<SimReport> {
  const random = rng(o.seed);
  // Separate connection pools: the bots' flood must not queue the humans' requests inside this process.
  const humansHttp = new HttpClient(deps.base, 96);
  const botsHttp = new HttpClient(deps.base, 96);
  const timeline = new Timeline();
  const lat: Record<string, number[]> = {};
  const requests: Record<string, number> = {};
  const queueLength = new Gauge(timeline.startedAt);
  const serving = new Gauge(timeline.startedAt);

  async function req(
    http: Pick<HttpClient, 'json'>,
    name: string,
    method: string,
    path: string,
    opts: Parameters<HttpClient['request']>[2] = {},
  ) {
    const t0 = performance.now();
    const r = await http.json(method, path, opts).catch(() => ({ status: 0, body: null as any }));
    const t1 = performance.now();
    (lat[name] ??= []).push(t1 - t0);
    requests[`${name} ${r.status}`] = (requests[`${name} ${r.status}`] ?? 0) + 1;
    timeline.add('requests', t1);
    deps.observe?.(name, r.status, t1);
    return r;
  }

  // ---- the event: sections priced and ranked front to back, waiting room on
  const sections = Array.from({ length: o.seats.sections }, (_, i) => ({
    id: String.fromCharCode(65 + i),
    name: `Section ${String.fromCharCode(65 + i)}`,
    rows: o.seats.rows,
    seatsPerRow: o.seats.seatsPerRow,
    priceCents: 20000 - i * 4000,
  }));
  const seatCount = sections.reduce((s, x) => s + x.rows * x.seatsPerRow, 0);
  const waitingRoom = !(await humansHttp.status('POST', '/v1/events/evt_probeprobeprobe/queue', { body: {} })).notFoundRoute;
  const onSaleAt = new Date(Date.now() + 5000 + o.prequeueSeconds * 1000);
  const created = await humansHttp.json('POST', '/v1/admin/events', {
    token: deps.adminToken,
    body: {
      name: 'Flash crowd simulation',
      onSaleAt: onSaleAt.toISOString(),
      holdSeconds: o.holdSeconds,
      maxSeatsPerBuyer: 6,
      waitingRoom: { enabled: waitingRoom, maxActiveCheckouts: o.maxActiveCheckouts, admitPerMinute: o.admitPerMinute },
      sections,
    },
  });
  if (created.status !== 201) throw new Error(`creating the event failed: ${created.status} ${JSON.stringify(created.body)}`);
  const eventId: string = created.body.eventId;
  const opened = await humansHttp.json('POST', `/v1/admin/events/${eventId}/open`, { token: deps.adminToken });
  if (opened.status !== 200) throw new Error(`opening the event failed: ${opened.status} ${JSON.stringify(opened.body)}`);

  // ---- the crowd: every account through the public sign-up (development issuer)
  const humans = o.humans;
  const bots = o.humans * o.botsPerHuman;
  const accounts = await inParallel(
    Array.from({ length: humans + bots }, (_, i) => i),
    32,
    async (i) => {
      const r = await (i < humans ? humansHttp : botsHttp).json('POST', '/v1/dev/buyers', {
        body: { name: i < humans ? `Fan ${i}` : `Bot ${i}` },
      });
      if (r.status !== 201) throw new Error(`creating a buyer failed: ${r.status}`);
      if (i % 200 === 0) progress(`creating accounts ${i}/${humans + bots}`);
      return r.body as { buyerId: string; token: string };
    },
  );
  const startMs = onSaleAt.getTime() - o.prequeueSeconds * 1000;
  const humanArrivals = arrivals(humans, o, random);
  const actors: Actor[] = accounts.map((a, i) => {
    const kind: Kind = i < humans ? 'human' : 'bot';
    // Bots fire the instant the arrival window opens, spread over their farm's first second.
    const arriveAt = kind === 'human' ? humanArrivals[i]! : Math.round(random() * 1000);
    const ip = clientAddress(kind === 'human' ? i : humans + Math.floor((i - humans) / BOTS_PER_ADDRESS));
    return { kind, buyerId: a.buyerId, token: a.token, ip, arriveAt, outcome: 'pending', seats: 0 };
  });
  deps.onReady?.(eventId);
  while (Date.now() < startMs) await sleep(20);
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  let soldOut = false;

  // ---- the queue's public progress, sampled for the charts
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (waitingRoom) {
        const p = await req(humansHttp, 'progress', 'GET', `/v1/events/${eventId}/queue/progress`);
        if (p.status === 200) {
          queueLength.sample(p.body.queueLength ?? 0);
          serving.sample(p.body.servingPosition ?? 0);
          if (p.body.status === 'sold_out') soldOut = true;
        }
      }
      const e = await req(humansHttp, 'event', 'GET', `/v1/events/${eventId}`);
      if (e.status === 200 && e.body.counts?.available === 0 && e.body.counts?.held === 0) soldOut = true;
      await sleep(500);
    }
  })();

  /** Chooses seats the way a fan does: the front sections and the middle of a row, from the live map. */
  function preferredSeats(
    map: { seatId: string; section: string; row: number; number: number; status: string }[],
    q: number,
  ): string[] | null {
    const free = map.filter((s) => s.status === 'available');
    if (free.length < q) return null;
    const want = free[Math.floor(Math.pow(random(), 3) * Math.min(free.length, 200))]!;
    const same = free
      .filter((s) => s.section === want.section && s.row === want.row && Math.abs(s.number - want.number) < q + 2)
      .slice(0, q);
    return same.length === q ? same.map((s) => s.seatId) : null;
  }

  async function run(a: Actor): Promise<void> {
    const base = a.kind === 'human' ? humansHttp : botsHttp;
    const xff = { 'x-forwarded-for': a.ip };
    // Every request of this actor comes from its address.
    const http = {
      json: (method: string, path: string, opts: Parameters<HttpClient['json']>[2] = {}) =>
        base.json(method, path, { ...opts, headers: { ...xff, ...opts.headers } }),
    };
    const wait = a.arriveAt - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    let admission: string | undefined;
    if (waitingRoom) {
      a.sentJoinAt = performance.now() - t0;
      let joined = await req(http, 'join', 'POST', `/v1/events/${eventId}/queue`, { token: a.token });
      for (
        let i = 0;
        (joined.status === 503 || joined.status === 403 || NO_ANSWER.has(joined.status)) && i < 5 && performance.now() < deadline;
        i++
      ) {
        const d = joined.body?.error?.details;
        if (joined.status === 403 && d?.reason !== 'proof_of_work') break;
        // The line is long enough for proof of work (domain/fairness.ts): solve the challenge it sent and join again.
        const pow = joined.status === 403 ? { challenge: d.challenge, nonce: solve(d.challenge, d.difficulty) } : undefined;
        if (!pow) await sleep(joined.status === 503 ? 1000 * Number(d?.retryAfter ?? 1) : 200);
        joined = await req(http, 'join', 'POST', `/v1/events/${eventId}/queue`, { token: a.token, body: pow ? { pow } : {} });
      }
      if (joined.status !== 201 && joined.status !== 200) {
        a.outcome = 'gave_up';
        return;
      }
      a.joinedAt = performance.now() - t0;
      a.position = joined.body.position;
      // Humans refresh every second or so; bots hammer.
      const every = a.kind === 'human' ? 1000 : 150;
      let polls = 0;
      while (performance.now() < deadline && !soldOut && polls++ < 2000) {
        const me = await req(http, 'me', 'GET', `/v1/events/${eventId}/queue/me`, { token: a.token });
        if (me.status === 200 && me.body.status === 'admitted' && me.body.admissionToken) {
          admission = me.body.admissionToken;
          a.admittedAt = performance.now() - t0;
          break;
        }
        if (me.status === 200 && (me.body.status === 'sold_out' || me.body.status === 'expired')) break;
        if (me.status === 429 || me.status === 503) await sleep(1000); // told to slow down
        if (a.kind === 'bot' && polls % 10 === 0) {
          // Bots also try to jump the queue; the API must turn them away.
          await req(http, 'hold-unadmitted', 'POST', `/v1/events/${eventId}/hold`, { token: a.token, body: { quantity: 6 } });
        }
        await sleep(every * (0.8 + random() * 0.4));
      }
      if (!admission) {
        a.outcome = soldOut ? 'sold_out' : 'timed_out';
        return;
      }
    } else {
      a.admittedAt = performance.now() - t0;
    }
    const headers: Record<string, string> = admission ? { 'x-admission-token': admission } : {};

    // ---- hold: bots grab the most seats allowed in the best section; humans pick from the map
    let hold: { holdId: string; seatIds: string[] } | null = null;
    let lostAnswer = false;
    for (let attempt = 0; attempt < 4 && !hold && performance.now() < deadline; attempt++) {
      let body: unknown;
      if (a.kind === 'bot') body = { quantity: 6 - attempt, section: sections[Math.min(attempt, sections.length - 1)]!.id };
      else {
        const q = 1 + Math.floor(random() * 4);
        const map = attempt === 0 && random() < 0.6 ? await req(http, 'seatmap', 'GET', `/v1/events/${eventId}/seats`) : null;
        const chosen = map?.status === 200 ? preferredSeats(map.body.seats, q) : null;
        const section = sections[Math.min(sections.length - 1, Math.floor(Math.pow(random(), 2) * sections.length) + attempt)]!.id;
        body = chosen ? { seatIds: chosen } : { quantity: q, section };
      }
      const r = await req(http, 'hold', 'POST', `/v1/events/${eventId}/hold`, { token: a.token, body, headers });
      if (r.status === 201) {
        hold = r.body;
        a.heldAt = performance.now() - t0;
        timeline.add('holds');
      } else if (lostAnswer && r.status === 409 && r.body?.error?.code === 'CHECKOUT_IN_PROGRESS') {
        // The hold asked for before the lost answer was granted: the page resumes the buyer's checkout.
        const c = await req(http, 'checkout', 'GET', `/v1/events/${eventId}/checkout`, { token: a.token });
        if (c.status === 200 && c.body.hold) {
          hold = { holdId: c.body.hold.holdId, seatIds: c.body.hold.seatIds };
          a.heldAt = performance.now() - t0;
          timeline.add('holds');
        }
      } else if (NO_ANSWER.has(r.status)) {
        lostAnswer = true;
        attempt--;
        await sleep(200);
      } else if (r.status === 503) await sleep(1000);
      else if (r.status !== 409 && r.status !== 404) break;
    }
    if (!hold) {
      a.outcome = soldOut ? 'sold_out' : 'gave_up';
      return;
    }

    // ---- pay: abandoners walk away (half release, half let the hold expire); some cards decline
    if (a.kind === 'human' && random() < o.abandonShare) {
      await sleep(500 + random() * 2000);
      if (random() < 0.5) await req(http, 'release', 'DELETE', `/v1/events/${eventId}/hold/${hold.holdId}`, { token: a.token });
      a.outcome = 'abandoned';
      return;
    }
    if (a.kind === 'human') await sleep(1000 + random() * 3000); // typing card details
    const declines = a.kind === 'human' && random() < o.declineShare;
    if (declines) {
      const r = await req(http, 'purchase', 'POST', `/v1/events/${eventId}/purchase`, {
        token: a.token,
        body: { holdId: hold.holdId, paymentMethod: 'pm_card_chargeDeclined' },
      });
      if (r.status === 402) timeline.add('declined');
      if (random() < 0.5) {
        await req(http, 'release', 'DELETE', `/v1/events/${eventId}/hold/${hold.holdId}`, { token: a.token });
        a.outcome = 'declined';
        return;
      }
      await sleep(1000);
    }
    let paid = await req(http, 'purchase', 'POST', `/v1/events/${eventId}/purchase`, {
      token: a.token,
      body: { holdId: hold.holdId, paymentMethod: 'pm_card_visa' },
    });
    // No answer: the page asks again; a purchase repeated after it succeeded answers with the same order.
    for (let i = 0; (NO_ANSWER.has(paid.status) || paid.status === 503) && i < 10 && performance.now() < deadline; i++) {
      await sleep(paid.status === 503 ? 1000 : 300);
      paid = await req(http, 'purchase', 'POST', `/v1/events/${eventId}/purchase`, {
        token: a.token,
        body: { holdId: hold.holdId, paymentMethod: 'pm_card_visa' },
      });
    }
    if (paid.status === 200) {
      a.outcome = 'bought';
      a.seats = hold.seatIds.length;
      timeline.add('purchases', performance.now(), 1);
      timeline.add('tickets', performance.now(), a.seats);
    } else a.outcome = 'gave_up';
  }

  let finished = 0;
  const ticker = setInterval(() => {
    const admitted = actors.filter((a) => a.admittedAt !== undefined).length;
    const bought = actors.filter((a) => a.outcome === 'bought').length;
    progress(
      `simulating: ${Math.round((performance.now() - t0) / 1000)}s, ${finished}/${actors.length} done, ${admitted} admitted, ${bought} orders`,
    );
  }, 500);
  await Promise.all(
    actors.map((a) =>
      run(a)
        .catch(() => void (a.outcome = 'gave_up'))
        .finally(() => void finished++),
    ),
  );
  clearInterval(ticker);
  sampling = false;
  await sampler;
  const seconds = round((performance.now() - t0) / 1000, 2);
  humansHttp.close();
  botsHttp.close();

  // ---- results from the source of truth
  const { rows } = await deps.pool.query<{ buyer_id: string; n: number }>(
    `SELECT buyer_id, sum(cardinality(seat_ids))::int AS n FROM orders WHERE event_id = $1 AND status = 'confirmed' GROUP BY buyer_id`,
    [eventId],
  );
  const botIds = new Set(actors.filter((a) => a.kind === 'bot').map((a) => a.buyerId));
  const ticketsSold = rows.reduce((s, r) => s + r.n, 0);
  const ticketsToBots = rows.filter((r) => botIds.has(r.buyer_id)).reduce((s, r) => s + r.n, 0);

  const queued = actors.filter((a) => a.position !== undefined && a.sentJoinAt !== undefined);
  const admitted = queued.filter((a) => a.admittedAt !== undefined);
  const outcomes: SimReport['outcomes'] = { human: {}, bot: {} };
  for (const a of actors) outcomes[a.kind][a.outcome] = (outcomes[a.kind][a.outcome] ?? 0) + 1;
  const toHold = (k: Kind) =>
    summarize(
      actors.filter((a) => a.kind === k && a.heldAt !== undefined && a.admittedAt !== undefined).map((a) => a.heldAt! - a.admittedAt!),
    );

  progress('counting Temporal actions');
  const ids: string[] = [];
  for await (const wf of deps.temporal.workflow.list({ query: `EventId = '${eventId}'` })) ids.push(wf.workflowId);
  const actions = await countActions(deps.temporal, ids).catch(() => ({ total: 0, byKind: {}, workflows: 0 }));
  const perTicket = ticketsSold ? round(actions.total / ticketsSold, 2) : null;
  let admission: SimReport['admission'] = null;
  if (waitingRoom) {
    try {
      const id = admissionWorkflowId(eventId);
      const state = await deps.temporal.workflow.getHandle(id).query(admissionQuery);
      const counted = await countRunActions(deps.temporal, id);
      const admittedTotal = state.admittedTotal + state.offersTotal;
      admission = {
        actions: counted.total,
        byKind: counted.byKind,
        runs: counted.runs,
        admitted: admittedTotal,
        perThousandAdmitted: admittedTotal ? round((counted.total * 1000) / admittedTotal, 1) : null,
      };
    } catch {
      admission = null;
    }
    // The sale is over: close it so its controller completes instead of idling on after the run.
    const closer = new HttpClient(deps.base, 1);
    await closer.json('POST', `/v1/admin/events/${eventId}/close`, { token: deps.adminToken }).catch(() => undefined);
    closer.close();
  }

  progress('auditing the database');
  // The reconciliation: the database's invariants and the payment provider's books.
  const provider = createPaymentProvider(loadConfig(), deps.pool);
  let audit: AuditReport = await reconcile(deps.pool, provider, { eventIds: [eventId] });
  // The database is shared with other runs: give in-flight transactions elsewhere a moment before judging.
  for (let i = 0; i < 3 && !audit.ok; i++) {
    await sleep(2000);
    audit = await reconcile(deps.pool, provider, { eventIds: [eventId] });
  }

  return {
    waitingRoom,
    event: { eventId, seats: seatCount },
    actors: { humans, bots },
    outcomes,
    requests,
    seconds,
    ticketsSold,
    ticketsToBots,
    botShareOfTickets: ticketsSold ? round(ticketsToBots / ticketsSold, 3) : null,
    fairness: {
      arrivalVsPosition: waitingRoom ? kendallTauDistance(queued.map((a) => [a.sentJoinAt!, a.position!])) : null,
      arrivalVsPositionAfterOpen: waitingRoom
        ? kendallTauDistance(queued.filter((a) => a.sentJoinAt! >= o.prequeueSeconds * 1000).map((a) => [a.sentJoinAt!, a.position!]))
        : null,
      arrivalVsAdmission: waitingRoom ? kendallTauDistance(admitted.map((a) => [a.sentJoinAt!, a.admittedAt!])) : null,
      admissionToHoldMs: { human: toHold('human'), bot: toHold('bot') },
    },
    latency: Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, summarize(v)])),
    timeline: Object.fromEntries([...timeline.buckets.keys()].map((k) => [k, timeline.rates(k)])),
    queue: { queueLength: queueLength.points, servingPosition: serving.points },
    actions: { ...actions, perTicket, cost: perTicket !== null ? onsaleCost(perTicket) : null },
    admission,
    audit,
  };
}
