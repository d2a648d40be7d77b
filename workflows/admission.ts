/**
 * The fair queue's controller: one per event. It never hears from buyers one
 * by one; each tick it reads the event's load through an activity and moves
 * the serving position as far as the limits allow. Pause, resume, limit
 * changes and close arrive as updates. It continues as new before its history
 * grows large, carrying its state.
 *
 * It ticks only while there is work. With nobody to admit and no admission
 * outstanding it records in Redis that it is asleep and waits on a long
 * timer; the first buyer to join then wakes it with one signal (debounced in
 * Redis, so never more than one a second per event). An idle open event costs
 * a few actions per sleep period instead of two or three a second.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type AdmissionInput,
  admissionQuery,
  type AdmissionState,
  closeUpdate,
  measuredRate,
  pauseUpdate,
  planTick,
  resumeUpdate,
  setLimitsUpdate,
  wakeSignal,
} from '../domain/admission';
import { QUEUE_STATE_KEY } from '../domain/checkout';
import type { RoomStatus } from '../domain/queue';

const queue = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

const BUSY_TICK_MS = 1000;
const IDLE_TICK_MS = 2000;
const RATE_WINDOW_MS = 60_000;
/** Well below Temporal's limits; a tick adds about six events. */
const MAX_HISTORY_EVENTS = 3000;
/** Backstop for a sleeping controller; a join or an update wakes it sooner. */
const IDLE_SLEEP_MS = 10 * 60_000;

/** Sleep while idle instead of ticking every two seconds. */
export const IDLE_SLEEP_PATCH = 'admission-idle-sleep';
/** Close publishes the closed room and never opens a queue closed before its sale. */
export const CLOSE_PATCH = 'admission-close';

export async function admission(input: AdmissionInput): Promise<AdmissionState> {
  const { eventId } = input;
  const state: AdmissionState = input.state ?? {
    opened: false,
    paused: false,
    soldOut: false,
    closed: false,
    serving: 0,
    credit: 0,
    lastTickMs: Date.now(),
    admittedTotal: 0,
    offersTotal: 0,
    recent: [],
    limits: input.limits,
    runs: 0,
  };
  let wake = false;
  let reported = '';

  setHandler(admissionQuery, () => state);
  setHandler(pauseUpdate, () => {
    state.paused = true;
    wake = true;
    return state;
  });
  setHandler(resumeUpdate, () => {
    state.paused = false;
    state.lastTickMs = Date.now(); // no credit is earned while paused
    wake = true;
    return state;
  });
  setHandler(
    setLimitsUpdate,
    (limits) => {
      state.limits = { ...state.limits, ...limits };
      wake = true;
      return state;
    },
    {
      validator: (limits) => {
        for (const [k, v] of Object.entries(limits)) {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer`);
        }
      },
    },
  );
  setHandler(closeUpdate, () => {
    state.closed = true;
    wake = true;
    return state;
  });
  setHandler(wakeSignal, () => {
    wake = true;
  });

  const report = async (status: RoomStatus) => {
    if (status === reported) return;
    reported = status;
    upsertSearchAttributes([{ key: QUEUE_STATE_KEY, value: status }]);
    await queue.setQueueStatus({ eventId, status });
  };

  if (!state.opened) {
    const untilSale = input.onSaleAtMs - Date.now();
    if (untilSale > 0) await condition(() => state.closed, untilSale);
    if (!(state.closed && patched(CLOSE_PATCH))) {
      await queue.openQueue({ eventId });
      state.opened = true;
      state.lastTickMs = Date.now();
    }
  }

  while (!state.closed) {
    const now = Date.now();
    const load = await queue.readEventLoad({ eventId, nowMs: now });
    const plan = planTick(state, load, now);
    state.credit = plan.credit;
    state.lastTickMs = now;
    state.soldOut = plan.soldOut;
    state.recent = [...state.recent.filter(([t]) => now - t < RATE_WINDOW_MS), [now, plan.admitTo]];
    const deadlineMs = now + state.limits.admissionWindowSeconds * 1000;
    const admitting = plan.admitTo > Math.max(state.serving, load.serving);
    if (admitting) {
      state.admittedTotal += await queue.admitThrough({
        eventId,
        to: plan.admitTo,
        deadlineMs,
        ratePerMinute: Math.round(measuredRate(state.recent)),
      });
    }
    state.serving = plan.admitTo;
    if (plan.offerSeats > 0) {
      state.offersTotal += await queue.offerWaitlist({ eventId, seats: plan.offerSeats, deadlineMs });
    }
    await report(state.paused ? 'paused' : plan.soldOut ? 'sold_out' : 'open');

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? MAX_HISTORY_EVENTS)) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof admission>({ ...input, state: { ...state, runs: state.runs + 1 } });
    }
    if (patched(IDLE_SLEEP_PATCH)) {
      // Reset before going to sleep, not after: a wake-up that arrives while
      // markAsleep runs must still end the sleep.
      wake = false;
      const waiting = load.queueLength > plan.admitTo || load.waitlistLength > 0;
      // Work: an admission or offer made now or still open, or someone waiting while seats may still come back.
      const working = admitting || plan.offerSeats > 0 || load.pending > 0 || (waiting && !plan.soldOut);
      if (working && !state.paused) {
        await condition(() => wake, BUSY_TICK_MS);
        continue;
      }
      const sleepMs = (input.idleSleepSeconds ?? IDLE_SLEEP_MS / 1000) * 1000;
      // Paused, or sold out with buyers in line: joins change nothing, so only an update or the timer wakes it.
      const asleep = state.paused || waiting || (await queue.markAsleep({ eventId, sleepMs }));
      // Not asleep: someone joined since the load was read, so tick again soon.
      await condition(() => wake, asleep ? sleepMs : BUSY_TICK_MS);
      continue;
    }
    const busy = load.queueLength > plan.admitTo || load.pending > 0 || load.waitlistLength > 0;
    wake = false;
    await condition(() => wake, busy && !state.paused ? BUSY_TICK_MS : IDLE_TICK_MS);
  }
  if (patched(CLOSE_PATCH)) {
    upsertSearchAttributes([{ key: QUEUE_STATE_KEY, value: 'closed' }]);
    await queue.setQueueStatus({ eventId, status: 'closed' });
  }
  await condition(allHandlersFinished);
  return state;
}
