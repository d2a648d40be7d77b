/**
 * The seat-map stream over real HTTP: a snapshot, then live changes, and a
 * reconnect with Last-Event-ID that replays only what was missed.
 */
import { SeatFanout } from '../../api/seat-fanout';
import { createLogger } from '../../platform/logger';
import { testConfig } from '../../harness/stack';
import { apiClient, createEvent, errorOf, expectOk, newBuyer, reply, request } from '../support/http';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** Reads server-sent events from a fetch body. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseEvent[] = [];
  async function next(timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = queue.shift();
      if (ev) return ev;
      const block = buffer.indexOf('\n\n');
      if (block >= 0) {
        const raw = buffer.slice(0, block);
        buffer = buffer.slice(block + 2);
        const e: SseEvent = { event: 'message', data: '' };
        let data = '';
        for (const line of raw.split('\n')) {
          if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) {
          e.data = JSON.parse(data);
          queue.push(e);
        }
        continue;
      }
      if (Date.now() > deadline) throw new Error('no event in time');
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  }
  return { res, next, close: () => controller.abort() };
}

async function hold(eventId: string, seatIds: string[]) {
  const buyer = await newBuyer(stack.api.url);
  const r = await reply(
    apiClient(stack.api.url, buyer.token).v1.events[':eventId'].hold.$post({ param: { eventId }, json: { seatIds }, header: {} }),
  );
  expectOk(r, 201);
  return r.body;
}

test('snapshot, live changes, and a resume that replays the missed changes instead of a snapshot', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const url = `${stack.api.url}/v1/events/${eventId}/seats/stream`;
  const first = await openStream(url);
  expect(first.res.status).toBe(200);
  expect(first.res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const snapshot = await first.next();
  expect(snapshot.event).toBe('snapshot');
  expect(snapshot.data.seats).toEqual([]);
  expect(Number(snapshot.id)).toBe(snapshot.data.version);

  await hold(eventId, ['A-1-1', 'A-1-2']);
  const change = await first.next();
  expect(change.event).toBe('changes');
  expect(change.data.changes.map((c: any[]) => [c[0], c[1]]).sort()).toEqual([
    ['A-1-1', 'held'],
    ['A-1-2', 'held'],
  ]);
  expect(Number(change.id)).toBe(change.data.version);
  expect(change.data.version).toBeGreaterThan(snapshot.data.version);
  first.close();

  // While this client is away another buyer holds a seat.
  await hold(eventId, ['A-4-4']);
  const resumed = await openStream(url, { 'last-event-id': change.id! });
  const replayed: SseEvent[] = [];
  for (;;) {
    const e = await resumed.next();
    expect(e.event).toBe('changes');
    replayed.push(e);
    if (e.data.changes.some((c: any[]) => c[0] === 'A-4-4')) break;
  }
  expect(replayed.flatMap((e) => e.data.changes.map((c: any[]) => c[0]))).toContain('A-4-4');
  resumed.close();

  // A version the log no longer anchors gets a fresh snapshot with every changed seat.
  const stale = await openStream(`${url}?lastEventId=1`);
  const fresh = await stale.next();
  expect(fresh.event).toBe('snapshot');
  expect(fresh.data.seats.map((s: any[]) => s[0]).sort()).toEqual(['A-1-1', 'A-1-2', 'A-4-4']);
  expect(fresh.data.seats.every((s: any[]) => s[1] === 'held' && s[2] > 0)).toBe(true);
  stale.close();
});

test('changes committed within one window reach a stream as one frame, encoded once for every stream', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  // A long window, so the five changes below surely fall into one.
  const fanout = new SeatFanout(stack.api.deps.redis, createLogger('test-fanout', 'warn'), 60_000, 3_000);
  const frames: { bytes: Uint8Array; version: number }[][] = [[], []];
  const listeners = frames.map((got) => ({ frame: (bytes: Uint8Array, version: number) => got.push({ bytes, version }), resync() {} }));
  const unsubscribe = await Promise.all(listeners.map((l) => fanout.subscribe(eventId, l)));
  try {
    const { rows } = await stack.api.deps.pool.query<{ v: string }>(
      `SELECT nextval('seat_version_seq')::text AS v FROM generate_series(1, 5)`,
    );
    const versions = rows.map((r) => Number(r.v));
    for (const [i, version] of versions.entries()) {
      await stack.api.deps.seatCache.apply(eventId, [{ seatId: `A-2-${i + 1}`, status: 'held', version }]);
    }
    const until = Date.now() + 15_000;
    while (frames[1]!.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    for (const got of frames) expect(got).toHaveLength(1);
    expect(frames[0]![0]!.bytes).toBe(frames[1]![0]!.bytes); // the same bytes, not a copy per stream
    const text = new TextDecoder().decode(frames[0]![0]!.bytes);
    const max = Math.max(...versions);
    expect(text.startsWith(`id: ${max}\nevent: changes\ndata: `)).toBe(true);
    const data = JSON.parse(text.split('data: ')[1]!) as { version: number; changes: [string, string, number][] };
    expect(data.version).toBe(max);
    expect(data.changes.map((c) => c[0]).sort()).toEqual(['A-2-1', 'A-2-2', 'A-2-3', 'A-2-4', 'A-2-5']);
  } finally {
    unsubscribe.forEach((u) => u());
    fanout.close();
  }
});

test('bad input is refused before a stream opens', async () => {
  const unknown = await request(stack.api.url, 'GET', '/v1/events/evt_doesnotexist00/seats/stream');
  expect({ status: unknown.status, code: errorOf(unknown)?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const bad = await request(stack.api.url, 'GET', `/v1/events/${eventId}/seats/stream`, { headers: { 'last-event-id': 'yesterday' } });
  expect({ status: bad.status, code: errorOf(bad)?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
});

test('the admin event view counts seats and links each checkout to the Temporal UI', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const h = await hold(eventId, ['A-5-1']);
  const adminView = (token?: string) =>
    reply(apiClient(stack.api.url, token).v1.admin.events[':eventId'].$get({ param: { eventId }, query: {} }));
  expect((await adminView()).status).toBe(401);
  const view = await adminView(config.ADMIN_TOKEN);
  expectOk(view, 200);
  expect(view.body.counts).toEqual({ available: 49, held: 1, sold: 0 });
  expect(view.body.holds.active).toBe(1);
  const checkout = view.body.recentCheckouts[0]!;
  expect(checkout.holdId).toBe(h.holdId);
  expect(checkout.workflowId).toMatch(new RegExp(`^checkout:${eventId}:byr_`));
  expect(checkout.temporalUrl).toBe(
    `${config.TEMPORAL_UI_URL}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(checkout.workflowId)}`,
  );
  expect(view.body.temporal.checkouts).toContain(encodeURIComponent(`EventId="${eventId}"`));
});

test('the API reference and the page are served without any third-party origin', async () => {
  const docs = await fetch(`${stack.api.url}/docs`);
  const html = await docs.text();
  expect(docs.status).toBe(200);
  expect(html).not.toMatch(/https?:\/\//);
  for (const asset of [
    '/docs/assets/swagger-ui-bundle.js',
    '/docs/assets/swagger-ui.css',
    '/docs/docs.js',
    '/web/app.js',
    '/web/app.css',
  ]) {
    expect((await fetch(`${stack.api.url}${asset}`)).status).toBe(200);
  }
  const page = await fetch(`${stack.api.url}/events/evt_anything1234`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
});
