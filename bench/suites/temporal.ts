/**
 * Checkouts through Temporal against an empty workflow on the same server,
 * and the billable Temporal Cloud actions a sold ticket costs, counted from
 * real workflow histories.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createPool } from '../../db/pool';
import { insertBuyer } from '../../db/queries/buyers';
import { purchaseUpdate } from '../../domain/checkout';
import { checkoutWorkflowId } from '../../domain/ids';
import { seedEvent } from '../../harness/seed';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { startHeldCheckout } from '../../services/held-checkout';
import { SeatCache } from '../../services/seat-cache';
import { SeatClaims } from '../../services/seat-claims';
import { SeatHolds } from '../../services/seat-holds';
import { inParallel, type LoadResult, runLoad } from '../lib/load';
import { round } from '../lib/stats';

/** Temporal Cloud Pay-As-You-Go list price, first volume tier. */
export const ACTION_PRICE = {
  usdPerMillion: 50,
  source:
    'Temporal Cloud pricing, Pay-As-You-Go "Action pricing": $50 per million Actions for the first 5M a month (docs.temporal.io/cloud/pricing), as read on 2026-11-28',
};
export const SEATS_PER_ONSALE = 50_000;
const BENCH_LOGGER = createLogger('bench', 'warn');

const E = temporal.api.enums.v1.EventType;

/**
 * Billable actions in one history, per Temporal Cloud's action list: a start,
 * each activity attempt, timer, signal, accepted update, search-attribute
 * upsert, marker (local activity, side effect), child start and external
 * signal. Rejected updates and queries leave no history event and are not
 * counted here.
 */
export function actionsInHistory(history: temporal.api.history.v1.IHistory): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  const add = (k: string, n = 1) => void (byKind[k] = (byKind[k] ?? 0) + n);
  for (const e of history.events ?? []) {
    switch (e.eventType) {
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        add('workflowStarted');
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add('activity');
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const retries = (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1;
        if (retries > 0) add('activityRetry', retries);
        break;
      }
      case E.EVENT_TYPE_TIMER_STARTED:
        add('timer');
        break;
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        add('signal');
        break;
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
      case E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        add('searchAttributes');
        break;
      case E.EVENT_TYPE_MARKER_RECORDED:
        add('marker');
        break;
      case E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('childWorkflow');
        break;
      case E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        add('externalSignal');
        break;
      default:
        break;
    }
  }
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

/** Sums the actions of the given workflow ids (their latest runs). */
export async function countActions(
  client: Client,
  workflowIds: string[],
): Promise<{ total: number; byKind: Record<string, number>; workflows: number }> {
  const byKind: Record<string, number> = {};
  let total = 0;
  await inParallel(workflowIds, 16, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const a = actionsInHistory(history);
    total += a.total;
    for (const [k, n] of Object.entries(a.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
  });
  return { total, byKind, workflows: workflowIds.length };
}

export function onsaleCost(actionsPerTicket: number) {
  const actions = actionsPerTicket * SEATS_PER_ONSALE;
  return { seats: SEATS_PER_ONSALE, actions: Math.round(actions), usd: round((actions / 1e6) * ACTION_PRICE.usdPerMillion, 2) };
}

export interface TemporalOptions {
  checkouts: number;
  empties: number;
  concurrency: number;
  durationMs: number;
  seatsPerCheckout: number;
}

export interface TemporalFigures {
  checkout: LoadResult & { perSecond: number };
  empty: LoadResult & { perSecond: number };
  actions: { total: number; byKind: Record<string, number>; workflows: number; perCheckout: number; perTicket: number };
  cost: ReturnType<typeof onsaleCost> & { usdPerMillionActions: number; priceSource: string };
}

/** An event with distinct seats for `checkouts` checkouts and a buyer for each: Temporal's cost, not seat contention. */
export interface PreparedCheckouts {
  eventId: string;
  buyers: string[];
  seatsFor(i: number): string[];
  /** Postgres and the claim gate, as the API reserves a winning claim's seats. */
  holds: SeatHolds;
  close(): Promise<void>;
}

export async function prepareCheckouts(
  databaseUrl: string,
  o: { checkouts: number; seatsPerCheckout: number; name?: string; redisUrl?: string },
): Promise<PreparedCheckouts> {
  const redisUrl = o.redisUrl ?? process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set: set -a; source .state/stack.env; set +a');
  const pool = createPool(databaseUrl, { max: 8, application_name: 'onsale-bench' });
  const redis = createRedis(redisUrl, 'onsale-bench');
  const logger = createLogger('bench', 'warn');
  const holds = new SeatHolds({
    pool,
    logger,
    seatCache: new SeatCache(redis, pool, logger),
    seatClaims: new SeatClaims(redis, pool, logger),
    graceSeconds: loadConfig().HOLD_PAYMENT_GRACE_SECONDS,
  });
  const seatsPerRow = 20;
  const rows = Math.ceil((o.checkouts * o.seatsPerCheckout) / seatsPerRow) + 1;
  const perRow = Math.floor(seatsPerRow / o.seatsPerCheckout);
  const buyers: string[] = [];
  let eventId: string;
  try {
    eventId = await seedEvent(pool, {
      name: o.name ?? 'bench checkouts',
      holdSeconds: 300,
      sections: [{ id: 'A', name: 'Floor', rows, seatsPerRow, priceCents: 9900 }],
    });
    const tag = randomBytes(6).toString('hex');
    for (let i = 0; i < o.checkouts; i++) buyers.push(`byr_bench${tag}c${i}`);
    await inParallel(buyers, 4, (id) => insertBuyer(pool, { id, name: 'Bench Buyer', email: `${id.toLowerCase()}@buyers.onsale.test` }));
  } catch (err) {
    await Promise.allSettled([pool.end(), redis.quit()]);
    throw err;
  }
  return {
    eventId,
    buyers,
    holds,
    async close() {
      await Promise.allSettled([pool.end(), redis.quit()]);
    },
    seatsFor: (i) => {
      const row = 1 + Math.floor(i / perRow);
      const first = 1 + (i % perRow) * o.seatsPerCheckout;
      return Array.from({ length: o.seatsPerCheckout }, (_, k) => `A-${row}-${first + k}`);
    },
  };
}

/**
 * The production checkout of buyer `i`, as the API runs it after its claim
 * gate: Postgres takes the seats and the checkout starts already held (shape
 * 4), then the purchase update. Resolves with the workflow id.
 */
export async function runCheckout(client: Client, taskQueue: string, p: PreparedCheckouts, i: number): Promise<string> {
  const buyerId = p.buyers[i]!;
  const hold = await startHeldCheckout(
    { temporal: client, taskQueue, holds: p.holds, logger: BENCH_LOGGER },
    { eventId: p.eventId, buyerId, holdId: `hold_${randomBytes(16).toString('hex')}`, request: { kind: 'seats', seatIds: p.seatsFor(i) } },
  );
  await client.workflow.getHandle(checkoutWorkflowId(p.eventId, buyerId)).executeUpdate(purchaseUpdate, {
    args: [{ holdId: hold.holdId, paymentMethod: 'pm_card_visa' }],
  });
  return checkoutWorkflowId(p.eventId, buyerId);
}

/** The baseline: start the empty workflow (bench/workflows.ts) and wait for its result. */
export async function emptyWorkflow(client: Client, emptyTaskQueue: string): Promise<void> {
  await client.workflow.execute('empty', { taskQueue: emptyTaskQueue, workflowId: `bench-empty-${randomBytes(8).toString('hex')}` });
}

export async function benchTemporal(
  client: Client,
  databaseUrl: string,
  queues: { taskQueue: string; emptyTaskQueue: string },
  o: TemporalOptions,
  onProgress: (text: string) => void = () => undefined,
): Promise<TemporalFigures> {
  const prepared = await prepareCheckouts(databaseUrl, o);
  const completed: string[] = [];
  let offset = 0;
  const checkoutRun = (n: number) => {
    const base = offset;
    offset += n;
    return runLoad({
      concurrency: o.concurrency,
      durationMs: o.durationMs / 2,
      maxOps: n,
      op: async (_loop, seq) => {
        completed.push(await runCheckout(client, queues.taskQueue, prepared, base + seq));
        return 'ok';
      },
      onTick: (n) => onProgress(`checkouts: ${n}`),
    });
  };

  const emptyRun = (n: number) =>
    runLoad({
      concurrency: o.concurrency,
      durationMs: o.durationMs / 2,
      maxOps: n,
      op: async () => {
        await emptyWorkflow(client, queues.emptyTaskQueue);
        return 'ok';
      },
      onTick: (n) => onProgress(`empty workflows: ${n}`),
    });
  // Alternating halves, so a change in the machine's load falls on both alike.
  const half = Math.ceil(o.checkouts / 2);
  const c1 = await checkoutRun(half);
  const e1 = await emptyRun(Math.ceil(o.empties / 2));
  const c2 = await checkoutRun(o.checkouts - half);
  const e2 = await emptyRun(Math.floor(o.empties / 2));
  const checkout = addLoads(c1, c2);
  const empty = addLoads(e1, e2);

  onProgress('counting actions in histories');
  // Wait for each checkout to finish so its history is whole.
  await inParallel(completed, 16, (id) =>
    client.workflow
      .getHandle(id)
      .result()
      .catch(() => undefined),
  );
  await prepared.close();
  const counted = await countActions(client, completed);
  const perCheckout = counted.workflows ? counted.total / counted.workflows : 0;
  const perTicket = perCheckout / o.seatsPerCheckout;
  return {
    checkout: { ...checkout, perSecond: checkout.rates.ok ?? 0 },
    empty: { ...empty, perSecond: empty.rates.ok ?? 0 },
    actions: { ...counted, perCheckout: round(perCheckout, 2), perTicket: round(perTicket, 2) },
    cost: { ...onsaleCost(perTicket), usdPerMillionActions: ACTION_PRICE.usdPerMillion, priceSource: ACTION_PRICE.source },
  };
}

function addLoads(a: LoadResult, b: LoadResult): LoadResult {
  const outcomes: Record<string, number> = { ...a.outcomes };
  for (const [k, n] of Object.entries(b.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
  const seconds = a.seconds + b.seconds;
  const rates = Object.fromEntries(Object.entries(outcomes).map(([k, n]) => [k, Math.round((n / seconds) * 10) / 10]));
  const latency = a.latency.p99 >= b.latency.p99 ? a.latency : b.latency;
  return { outcomes, seconds, rates, latency, latencyByOutcome: a.latencyByOutcome, timeline: a.timeline };
}
