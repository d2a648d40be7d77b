/**
 * The reminder lead-time change, made behind patched(): a checkout recorded
 * before it (a 30 s window, so no reminder at all) still replays on the
 * current code, while a new checkout takes the new path and is reminded
 * halfway through a short window, or at the lead time it was started with.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../../activities';
import { migrate } from '../../db/migrate';
import { holdUpdate } from '../../domain/checkout';
import { checkoutWorkflowId } from '../../domain/ids';
import { createLogger } from '../../platform/logger';
import { createActivityDeps } from '../../workers/deps';
import { type checkout, REMINDER_LEAD_PATCH } from '../../workflows/checkout';
import { installQuietRuntime } from '../../harness/runtime';
import { seedBuyer, seedEvent } from '../../harness/seed';
import { testConfig, workflowBundle } from '../../harness/stack';
import { createTimeSkippingEnv } from '../support/timeskipping';

installQuietRuntime();
jest.setTimeout(90_000);

const config = testConfig();
let env: TestWorkflowEnvironment;
let deps: ReturnType<typeof createActivityDeps>;
let pool: Pool;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  deps = createActivityDeps(config, createLogger('test', 'warn'));
  pool = deps.pool;
  await migrate(pool);
});

afterAll(async () => {
  await env?.teardown();
  await deps?.close();
});

type HistoryJson = { events: { eventType: string; [k: string]: any }[] };
const activityTypes = (h: HistoryJson) =>
  h.events
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
    .map((e) => e.activityTaskScheduledEventAttributes.activityType.name);

test('a checkout recorded before the patch (30 s window, no reminder) replays on the patched code', async () => {
  const file = path.join(__dirname, 'checkout-v1-hold-expire.json');
  const history = JSON.parse(readFileSync(file, 'utf8')) as HistoryJson;
  // The old path: the window ran out with no reminder and no patch marker.
  expect(activityTypes(history)).toEqual(['reserveSeats', 'releaseHold', 'notifyBuyer']);
  expect(history.events.some((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED')).toBe(false);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'checkout-v1-hold-expire');
});

async function runCheckout(holdSeconds: number, options: { reminderLeadSeconds?: number } = {}) {
  const taskQueue = `patch-${randomUUID()}`;
  const eventId = await seedEvent(pool, { holdSeconds });
  const buyerId = await seedBuyer(pool);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof checkout>('checkout', {
      workflowId: checkoutWorkflowId(eventId, buyerId),
      taskQueue,
      args: [{ eventId, buyerId, ...options }],
    });
    const hold = await handle.executeUpdate(holdUpdate, { args: [{ kind: 'best', quantity: 1 }] });
    const result = await handle.result();
    const { events } = await handle.fetchHistory();
    // The first timer is the idle wait for a hold; the window's timers follow it.
    const timers = events!
      .filter((e) => e.timerStartedEventAttributes)
      .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds))
      .slice(1);
    const markers = events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!);
    const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM notifications WHERE buyer_id = $1 ORDER BY id', [buyerId]);
    return { hold, result, timers, markers, kinds: rows.map((r) => r.kind) };
  });
}

test('a new checkout with a 30 s window is reminded halfway, and records the patch marker', async () => {
  const run = await runCheckout(30);
  expect(run.result.state).toBe('expired');
  expect(run.kinds).toEqual(['hold_reminder', 'hold_expired']);
  // Patch markers (this one and the lean checkout's); the local activities record markers of their own.
  const patches = run.markers
    .filter((m) => m.markerName === 'core_patch')
    .map((m) =>
      Object.values(m.details ?? {})
        .flatMap((p) => p.payloads ?? [])
        .map((p) => Buffer.from(p.data ?? []).toString())
        .join(),
    );
  expect(patches.filter((t) => t.includes(REMINDER_LEAD_PATCH))).toHaveLength(1);
  // Reminder after 15 s, expiry 15 s later (the clock of the update may shave off a second).
  expect(run.timers.map((s) => Math.round(s / 5) * 5)).toEqual([15, 15]);
});

test('the lead time is configurable per checkout; a normal window keeps the one-minute default', async () => {
  const custom = await runCheckout(300, { reminderLeadSeconds: 120 });
  expect(custom.kinds).toEqual(['hold_reminder', 'hold_expired']);
  expect(custom.timers.map((s) => Math.round(s / 10) * 10)).toEqual([180, 120]);

  const standard = await runCheckout(300);
  expect(standard.timers.map((s) => Math.round(s / 10) * 10)).toEqual([240, 60]);
});
