/**
 * What the admission controller costs in Temporal actions, counted from real
 * workflow histories on the dev server: an open event with nobody waiting
 * (the controller sleeps), a join storm into a quiet event (wake-up signals
 * per second), and the first buyer after a quiet spell (join to admitted).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Redis from 'ioredis';
import type { AdmissionInput } from '../../domain/admission';
import { admissionWorkflowId } from '../../domain/ids';
import { queueKeys, WaitingRoom } from '../../services/waiting-room';
import { clientAddress, type HttpClient } from '../lib/http';
import { type LatencySummary, round, summarize } from '../lib/stats';
import { actionsInHistory, ACTION_PRICE, SEATS_PER_ONSALE } from './temporal';
import { mintBuyers } from './http';
import type { Config } from '../../platform/config';

const E = temporal.api.enums.v1.EventType;
/** The controller's sleep when deployed (workflows/admission.ts IDLE_SLEEP_MS). */
export const DEPLOYED_IDLE_SLEEP_SECONDS = 600;
/** Issue 17's measurement of the controller before it slept: a timer and a load read every two seconds. */
export const TICKING_IDLE_ACTIONS_PER_HOUR = 3600;

export interface AdmissionOptions {
  /** Sleep period of the steady-state run, short so that several cycles fit in the run. */
  cycleSeconds: number;
  /** How long the steady-state and as-deployed idle events are watched. */
  idleSeconds: number;
  stormJoins: number;
  stormSeconds: number;
  /** Samples of the first buyer after a quiet spell, one quiet event each. */
  firstBuyerSamples: number;
  /** How long each of those events sleeps before its first buyer arrives. */
  quietSeconds: number;
}

export interface AdmissionFigures {
  idle: {
    /** Actions per sleep cycle (load read, sleep record, timer), measured between sleeps. */
    actionsPerCycle: number;
    cycles: number;
    byKind: Record<string, number>;
    /** At the deployed sleep period. */
    actionsPerHour: number;
    /** The as-deployed event: actions from opening until the end of the watch, start-up included. */
    deployed: { seconds: number; actions: number; byKind: Record<string, number> };
  };
  storm: { joins: number; accepted: number; spanMs: number; signals: number; maxSignalsInAnySecond: number; perSecond: number };
  firstBuyer: LatencySummary & { samples: number[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (t: temporal.api.history.v1.IHistoryEvent) =>
  Number(t.eventTime?.seconds ?? 0) * 1000 + Math.floor((t.eventTime?.nanos ?? 0) / 1e6);

/** Every run of a workflow id (continue-as-new chains), summed. */
export async function countRunActions(
  client: Client,
  workflowId: string,
): Promise<{ total: number; byKind: Record<string, number>; runs: number }> {
  const byKind: Record<string, number> = {};
  let total = 0;
  let runs = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const a = actionsInHistory(await client.workflow.getHandle(workflowId, wf.runId).fetchHistory());
    runs++;
    total += a.total;
    for (const [k, n] of Object.entries(a.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
  }
  return { total, byKind, runs };
}

async function createEvent(http: HttpClient, adminToken: string, name: string, open: boolean): Promise<string> {
  const created = await http.json('POST', '/v1/admin/events', {
    token: adminToken,
    body: {
      name,
      holdSeconds: 300,
      maxSeatsPerBuyer: 6,
      waitingRoom: { enabled: true, maxActiveCheckouts: 5000, admitPerMinute: 60_000, powDemandDifficulty: 0 },
      sections: [{ id: 'A', name: 'Floor', rows: 10, seatsPerRow: 100, priceCents: 5000 }],
    },
  });
  if (created.status !== 201) throw new Error(`creating ${name} failed: ${created.status}`);
  const eventId: string = created.body.eventId;
  if (open) {
    const opened = await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: adminToken });
    if (opened.status !== 200) throw new Error(`opening ${name} failed: ${opened.status}`);
  }
  return eventId;
}

async function untilAsleep(redis: Redis, eventId: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await redis.exists(queueKeys(eventId).asleep)) === 0) {
    if (Date.now() > end) throw new Error(`the admission controller of ${eventId} never went to sleep`);
    await sleep(50);
  }
}

export async function benchAdmission(
  http: HttpClient,
  client: Client,
  config: Config,
  taskQueue: string,
  o: AdmissionOptions,
  progress: (t: string) => void,
): Promise<AdmissionFigures> {
  const redis = new Redis(config.REDIS_URL);
  const room = new WaitingRoom(redis);
  const admin = config.ADMIN_TOKEN;
  const close = (eventId: string) => http.json('POST', `/v1/admin/events/${eventId}/close`, { token: admin });
  try {
    // ---- idle: one event as deployed (opened through the API), one with a short sleep to see whole cycles
    progress(`idle open events: watching for ${o.idleSeconds} s`);
    const deployedEvent = await createEvent(http, admin, 'bench idle (as deployed)', true);
    const cycleEvent = await createEvent(http, admin, 'bench idle (short sleep)', false);
    const input: AdmissionInput = {
      eventId: cycleEvent,
      onSaleAtMs: Date.now() - 1000,
      limits: { maxActiveCheckouts: 5000, admitPerMinute: 60_000, admissionWindowSeconds: 120 },
      idleSleepSeconds: o.cycleSeconds,
    };
    const cycleHandle = await client.workflow.start('admission', {
      workflowId: admissionWorkflowId(cycleEvent),
      taskQueue,
      args: [input],
    });
    const openedAt = Date.now();
    await sleep(o.idleSeconds * 1000);
    const deployed = await countRunActions(client, admissionWorkflowId(deployedEvent));
    const deployedSeconds = round((Date.now() - openedAt) / 1000, 1);
    const events = (await cycleHandle.fetchHistory()).events ?? [];
    const sleeps = events
      .map((e, i) => [e, i] as const)
      .filter(
        ([e]) =>
          e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'markAsleep',
      )
      .map(([, i]) => i);
    const cycles = Math.max(0, sleeps.length - 1);
    const steady =
      cycles > 0 ? actionsInHistory({ events: events.slice(sleeps[0]! + 1, sleeps[sleeps.length - 1]! + 1) }) : { total: 0, byKind: {} };
    const actionsPerCycle = cycles > 0 ? steady.total / cycles : 0;
    await Promise.all([close(deployedEvent), cycleHandle.terminate('bench finished')]);

    // ---- a join storm into a quiet event: wake-up signals per second
    progress(`join storm: ${o.stormJoins} joins over ${o.stormSeconds} s into a quiet event`);
    const stormEvent = await createEvent(http, admin, 'bench join storm', true);
    await untilAsleep(redis, stormEvent);
    const buyers = await mintBuyers(config, o.stormJoins, 'wake');
    const stormStart = Date.now();
    const batches = o.stormSeconds * 10;
    const perBatch = Math.ceil(o.stormJoins / batches);
    const sent: Promise<number>[] = [];
    for (let b = 0; b < batches; b++) {
      for (const [i, buyer] of buyers.slice(b * perBatch, (b + 1) * perBatch).entries()) {
        sent.push(
          http
            .request('POST', `/v1/events/${stormEvent}/queue`, {
              token: buyer.token,
              headers: { 'x-forwarded-for': clientAddress(b * perBatch + i) },
            })
            .then((r) => r.status),
        );
      }
      await sleep(Math.max(0, stormStart + (b + 1) * 100 - Date.now()));
    }
    const statuses = await Promise.all(sent);
    const spanMs = Date.now() - stormStart;
    const stormHistory = (await client.workflow.getHandle(admissionWorkflowId(stormEvent)).fetchHistory()).events ?? [];
    const signalTimes = stormHistory.filter((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).map(ms);
    const maxSignalsInAnySecond = signalTimes.reduce((m, t) => Math.max(m, signalTimes.filter((u) => u >= t && u < t + 1000).length), 0);
    await close(stormEvent);

    // ---- the first buyer after a quiet spell: join to admitted, as the buyer sees it
    const samples: number[] = [];
    const quietBuyers = await mintBuyers(config, o.firstBuyerSamples, 'quiet');
    for (let s = 0; s < o.firstBuyerSamples; s++) {
      progress(`first buyer after ${o.quietSeconds} s of quiet: sample ${s + 1}/${o.firstBuyerSamples}`);
      const eventId = await createEvent(http, admin, `bench quiet ${s + 1}`, true);
      await untilAsleep(redis, eventId);
      await sleep(o.quietSeconds * 1000);
      const buyer = quietBuyers[s]!;
      const t0 = performance.now();
      const joined = await http.json('POST', `/v1/events/${eventId}/queue`, {
        token: buyer.token,
        headers: { 'x-forwarded-for': clientAddress(90_000 + s) },
      });
      if (joined.status !== 201) throw new Error(`the quiet event's first join failed: ${joined.status}`);
      // Watched in Redis, where /queue/me reads it: polling the API would run into its per-buyer status limit.
      while ((await room.status(eventId, buyer.buyerId))?.status !== 'admitted') {
        if (performance.now() - t0 > 700_000) throw new Error('the first buyer after quiet was never admitted');
        await sleep(10);
      }
      samples.push(round(performance.now() - t0, 1));
      await close(eventId);
    }

    return {
      idle: {
        actionsPerCycle: round(actionsPerCycle, 2),
        cycles,
        byKind: steady.byKind,
        actionsPerHour: round(actionsPerCycle * (3600 / DEPLOYED_IDLE_SLEEP_SECONDS), 1),
        deployed: { seconds: deployedSeconds, actions: deployed.total, byKind: deployed.byKind },
      },
      storm: {
        joins: o.stormJoins,
        accepted: statuses.filter((s) => s === 201).length,
        spanMs,
        signals: signalTimes.length,
        maxSignalsInAnySecond,
        perSecond: round(signalTimes.length / Math.max(1, spanMs / 1000), 3),
      },
      firstBuyer: { ...summarize(samples), samples },
    };
  } finally {
    await redis.quit();
  }
}

/**
 * Temporal Cloud cost of one on-sale with its admission controller: checkouts
 * for every seat, the controller's actions per admitted buyer, and the
 * controller idling while the sale stays open.
 */
export function onsaleCostWithAdmission(o: {
  checkoutActionsPerTicket: number;
  admissionActionsPerThousandAdmitted: number;
  idleActionsPerHour: number;
  seatsPerBuyer: number;
  openDays: number;
}) {
  const admitted = SEATS_PER_ONSALE / o.seatsPerBuyer;
  const checkout = o.checkoutActionsPerTicket * SEATS_PER_ONSALE;
  const admission = (o.admissionActionsPerThousandAdmitted * admitted) / 1000;
  const idle = o.idleActionsPerHour * 24 * o.openDays;
  const actions = Math.round(checkout + admission + idle);
  return {
    seats: SEATS_PER_ONSALE,
    admittedBuyers: admitted,
    openDays: o.openDays,
    actions: { checkout: Math.round(checkout), admission: Math.round(admission), idle: Math.round(idle), total: actions },
    usd: round((actions / 1e6) * ACTION_PRICE.usdPerMillion, 2),
  };
}
