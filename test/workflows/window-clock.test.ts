/**
 * The window is the database's, on the real dev server: with the worker
 * saturated (few task slots, many checkouts at once), every hold's seats go
 * back on sale when the window Postgres recorded ends, and the end the buyer
 * was shown is that same moment: the workflow's clock and the database's agree
 * within a second.
 */
import { checkoutWorkflowId } from '../../domain/ids';
import { createEvent, newBuyer, call } from '../support/http';
import { startApi, startWorker, testConfig, type RunningApi, type RunningWorker } from '../../harness/stack';

jest.setTimeout(180_000);

const config = testConfig({ HOLD_PAYMENT_GRACE_SECONDS: '5' });
let api: RunningApi;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startApi(config);
  // Saturated on purpose: two workflow tasks and two local activities at a time for 40 checkouts.
  worker = await startWorker(config, {
    tuning: {
      maxConcurrentWorkflowTaskExecutions: 2,
      maxConcurrentActivityTaskExecutions: 2,
      maxConcurrentLocalActivityExecutions: 2,
    } as never,
  });
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
});

test('40 holds at once on a saturated worker end when Postgres says, within a second', async () => {
  const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
    holdSeconds: 30,
    maxSeatsPerBuyer: 2,
    sections: [{ id: 'F', name: 'Floor', rows: 4, seatsPerRow: 10, priceCents: 5000 }],
  });
  const buyers = await Promise.all(Array.from({ length: 40 }, (_, i) => newBuyer(api.url, `Clock ${i}`)));
  const holds = await Promise.all(
    buyers.map((b, i) =>
      call(api.url, 'POST', `/v1/events/${eventId}/hold`, {
        token: b.token,
        body: { seatIds: [`F-${1 + Math.floor(i / 10)}-${1 + (i % 10)}`] },
      }),
    ),
  );
  expect(holds.every((h) => h.status === 201)).toBe(true);
  // Every hold ends by its durable timer (not by the database-side expiry, 5 s later).
  const deadline = Date.now() + 90_000;
  let open = 40;
  while (open > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const { rows } = await api.deps.pool.query(`SELECT count(*)::int AS n FROM holds WHERE event_id = $1 AND status = 'active'`, [eventId]);
    open = rows[0].n;
  }
  expect(open).toBe(0);
  const { rows } = await api.deps.pool.query<{ id: string; window_end: Date; ended_at: Date; status: string }>(
    `SELECT id, expires_at - make_interval(secs => $2) AS window_end, ended_at, status FROM holds WHERE event_id = $1`,
    [eventId, Number(config.HOLD_PAYMENT_GRACE_SECONDS)],
  );
  const shown = new Map(holds.map((h) => [h.body.holdId as string, Date.parse(h.body.expiresAt as string)]));
  const lateness = rows.map((r) => r.ended_at.getTime() - r.window_end.getTime());
  const skew = rows.map((r) => Math.abs(shown.get(r.id)! - r.window_end.getTime()));
  // When the workflow's expiry timer fired, by the Temporal server's clock.
  const fired = new Map<string, number>();
  await Promise.all(
    buyers.map(async (b, i) => {
      const history = await api.deps.temporal.workflow.getHandle(checkoutWorkflowId(eventId, b.buyerId)).fetchHistory();
      const times = (history.events ?? []).filter((e) => e.timerFiredEventAttributes).map((e) => tsMs(e.eventTime));
      fired.set(holds[i]!.body.holdId as string, times[times.length - 1]!);
    }),
  );
  const timerSkew = rows.map((r) => Math.abs(fired.get(r.id)! - r.window_end.getTime()));
  console.log(
    `window end, workflow vs database: shown to the buyer max ${Math.max(...skew)} ms apart; timer fired max ${Math.max(...timerSkew)} ms apart; ` +
      `seats back on sale ${Math.min(...lateness)}..${Math.max(...lateness)} ms after the window (saturated worker)`,
  );
  expect(rows.every((r) => r.status === 'expired')).toBe(true);
  // Both clocks agree within a second: the end shown to the buyer and the moment the timer fired.
  expect(Math.max(...skew)).toBeLessThan(1000);
  expect(Math.max(...timerSkew)).toBeLessThan(1000);
  // The seats came back at that end, not a second early; late only by the saturated worker's queue.
  expect(Math.min(...lateness)).toBeGreaterThan(-1000);
  expect(Math.max(...lateness)).toBeLessThan(10_000);
  const { rows: held } = await api.deps.pool.query(`SELECT count(*)::int AS n FROM seats WHERE event_id = $1 AND status = 'held'`, [
    eventId,
  ]);
  expect(held[0].n).toBe(0);
});

function tsMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}
