/**
 * Seat-map reads: served from the Redis cache, rebuilt from Postgres when
 * missing, and from Postgres when Redis is gone; the compact layout and packed
 * statuses agree with the full map seat for seat; validators answer 304; JSON
 * is compressed for clients that accept it, event streams never are.
 */
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { statusAt } from '../../domain/seats';
import { seatKeys } from '../../services/seat-cache';
import { startApi, testConfig } from '../../harness/stack';
import { apiClient, createEvent, expectOk, newBuyer, okBody, reply } from '../support/http';
import { useApiAndWorker } from '../support/stack';

const config = testConfig();
const stack = useApiAndWorker(config);

const events = (base: string, token?: string) => apiClient(base, token).v1.events[':eventId'];

const statuses = async (base: string, eventId: string) => {
  const r = await reply(events(base).seats.$get({ param: { eventId }, header: {} }));
  expectOk(r, 200);
  return { version: r.body.version, map: Object.fromEntries(r.body.seats.map((s) => [s.seatId, s.status])) };
};

const hold = (base: string, token: string, eventId: string, seatIds: string[]) =>
  reply(events(base, token).hold.$post({ param: { eventId }, json: { seatIds }, header: {} }));

const purchase = (base: string, token: string, eventId: string, holdId: string) =>
  reply(events(base, token).purchase.$post({ param: { eventId }, json: { holdId, paymentMethod: 'pm_card_visa' } }));

const seatmap = async (base: string, eventId: string) => {
  const r = await reply(events(base).seatmap.$get({ param: { eventId }, header: {} }));
  expectOk(r, 200);
  return r;
};

/** A GET that keeps the raw bytes, so compressed answers can be checked as sent. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Layout + packed statuses, decoded into seatId → status, as the buyer page does. */
async function compactStatuses(base: string, eventId: string) {
  const layout = await seatmap(base, eventId);
  const s = await reply(events(base).seats.status.$get({ param: { eventId }, header: {} }));
  expectOk(s, 200);
  expect(s.body.encoding).toBe('2bit-base64');
  const packed = new Uint8Array(Buffer.from(s.body.statuses, 'base64'));
  const map: Record<string, string> = {};
  let i = 0;
  for (const sec of layout.body.sections) {
    for (const row of sec.rows) for (const n of row.numbers) map[`${sec.id}-${row.row}-${n}`] = statusAt(packed, i++);
  }
  expect(s.body.seatCount).toBe(i);
  expect(layout.body.seatCount).toBe(i);
  return { version: s.body.version, map, layout: layout.body, etag: s.headers.get('etag') };
}

const SECTIONS = [
  { id: 'B', name: 'Balcony', rows: 3, seatsPerRow: 7, priceCents: 3000 },
  { id: 'A', name: 'Floor A', rows: 2, seatsPerRow: 5, priceCents: 9000 },
];

test('the cache follows every change, and is rebuilt from Postgres after it is lost', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const before = await statuses(stack.api.url, eventId);
  expect(Object.keys(before.map)).toHaveLength(50);
  expect(await stack.api.deps.redis.exists(seatKeys(eventId).ready)).toBe(1);

  const buyer = await newBuyer(stack.api.url);
  const held0 = await hold(stack.api.url, buyer.token, eventId, ['A-5-9', 'A-5-10']);
  expectOk(held0, 201);
  const held = await statuses(stack.api.url, eventId);
  expect(held.map['A-5-9']).toBe('held');
  expect(held.version).toBeGreaterThan(before.version);

  // Redis loses everything about the event: the next read rebuilds it from Postgres.
  const k = seatKeys(eventId);
  await stack.api.deps.redis.del(k.ready, k.status, k.counts, k.layout, k.version, k.bits, k.index);
  const rebuilt = await statuses(stack.api.url, eventId);
  expect(rebuilt.map).toEqual(held.map);
  const event = okBody(await reply(events(stack.api.url).$get({ param: { eventId } })));
  expect(event.counts).toEqual({ available: 48, held: 2, sold: 0 });

  expectOk(await purchase(stack.api.url, buyer.token, eventId, held0.body.holdId), 200);
  const sold = await statuses(stack.api.url, eventId);
  expect(sold.map['A-5-10']).toBe('sold');
  // Only the packed bits lost: the status read rebuilds them instead of answering "all available".
  await stack.api.deps.redis.del(k.bits);
  await new Promise((r) => setTimeout(r, 300)); // past the process's status freshness window
  expect((await compactStatuses(stack.api.url, eventId)).map).toEqual(sold.map);
});

test('layout + packed statuses decode to exactly what GET /seats says, after holds and sales', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, { sections: SECTIONS, maxSeatsPerBuyer: 10 });
  const layout = await seatmap(stack.api.url, eventId);
  expect(layout.body).toMatchObject({
    eventId,
    seatCount: 31,
    sections: [
      { id: 'B', name: 'Balcony', priceCents: 3000, rows: [{ row: 1, numbers: [1, 2, 3, 4, 5, 6, 7] }, { row: 2 }, { row: 3 }] },
      { id: 'A', name: 'Floor A', priceCents: 9000, rows: [{ row: 1, numbers: [1, 2, 3, 4, 5] }, { row: 2 }] },
    ],
  });
  expect(layout.headers.get('etag')).toBe(`"${layout.body.layoutVersion}"`);
  expect(layout.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);

  const fresh = await compactStatuses(stack.api.url, eventId);
  expect(Object.values(fresh.map).every((s) => s === 'available')).toBe(true);

  const alice = await newBuyer(stack.api.url);
  const bob = await newBuyer(stack.api.url);
  const sold = await hold(stack.api.url, alice.token, eventId, ['B-1-1', 'B-2-7', 'A-2-5']);
  expectOk(sold, 201);
  expectOk(await purchase(stack.api.url, alice.token, eventId, sold.body.holdId), 200);
  expect((await hold(stack.api.url, bob.token, eventId, ['B-1-2', 'A-1-4'])).status).toBe(201);
  await new Promise((r) => setTimeout(r, 300)); // past the process's status freshness window

  const full = await statuses(stack.api.url, eventId);
  const compact = await compactStatuses(stack.api.url, eventId);
  expect(compact.map).toEqual(full.map);
  expect(compact.version).toBe(full.version);
  expect(compact.etag).toBe(`"${full.version}"`);
  expect([compact.map['B-1-1'], compact.map['B-2-7'], compact.map['A-2-5']]).toEqual(['sold', 'sold', 'sold']);
  expect([compact.map['B-1-2'], compact.map['A-1-4']]).toEqual(['held', 'held']);
  expect(Object.values(compact.map).filter((s) => s === 'available')).toHaveLength(26);
  // The layout did not change with the sales.
  expect((await seatmap(stack.api.url, eventId)).body.layoutVersion).toBe(layout.body.layoutVersion);
});

test('ETags: 304 while current, a new version after a change; GET /seats too', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const base = `${stack.api.url}/v1/events/${eventId}`;
  const layout = await rawGet(`${base}/seatmap`);
  const layoutTag = layout.headers.etag!;
  expect(layoutTag).toMatch(/^"[^"]+"$/);
  const again = await rawGet(`${base}/seatmap`, { 'if-none-match': layoutTag });
  expect(again.status).toBe(304);
  expect(again.body.length).toBe(0);
  expect(again.headers.etag).toBe(layoutTag);
  expect(again.headers['cache-control']).toMatch(/^public/);
  expect((await rawGet(`${base}/seatmap`, { 'if-none-match': '"stale"' })).status).toBe(200);

  const s1 = await rawGet(`${base}/seats/status`);
  const v1 = JSON.parse(s1.body.toString()).version as number;
  expect(s1.headers.etag).toBe(`"${v1}"`);
  expect(s1.headers.vary).toMatch(/Accept-Encoding/i);
  expect((await rawGet(`${base}/seats/status`, { 'if-none-match': `"${v1}"` })).status).toBe(304);
  expect((await rawGet(`${base}/seats`, { 'if-none-match': `"${v1}"` })).status).toBe(304);
  const seats = await rawGet(`${base}/seats`);
  expect(seats.headers.etag).toBe(`"${v1}"`);

  const buyer = await newBuyer(stack.api.url);
  expect((await hold(stack.api.url, buyer.token, eventId, ['A-1-1'])).status).toBe(201);
  await new Promise((r) => setTimeout(r, 300));
  const s2 = await rawGet(`${base}/seats/status`, { 'if-none-match': `"${v1}"` });
  expect(s2.status).toBe(200);
  const v2 = JSON.parse(s2.body.toString()).version as number;
  expect(v2).toBeGreaterThan(v1);
  expect(s2.headers.etag).toBe(`"${v2}"`);
  expect((await rawGet(`${base}/seats`, { 'if-none-match': `"${v1}"` })).status).toBe(200);
  // The layout's validator does not move with sales.
  expect((await rawGet(`${base}/seatmap`, { 'if-none-match': layoutTag })).status).toBe(304);
});

test('JSON is gzip- or br-compressed when accepted; event streams are not; answers with credentials are never public', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    sections: [{ id: 'A', name: 'A', rows: 20, seatsPerRow: 50, priceCents: 100 }],
  });
  const base = `${stack.api.url}/v1/events/${eventId}`;
  for (const path of ['/seats', '/seatmap', '/seats/status']) {
    const plain = await rawGet(base + path);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await rawGet(base + path, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gunzipSync(gz.body).toString()).toBe(plain.body.toString());
    const br = await rawGet(base + path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(plain.body.toString());
    expect(br.body.length).toBeLessThan(plain.body.length);
    expect((await rawGet(base + path, { 'accept-encoding': 'br;q=0, gzip;q=0' })).headers['content-encoding']).toBeUndefined();
  }
  const full = await rawGet(`${base}/seats`, { 'accept-encoding': 'gzip' });
  expect(full.body.length * 10).toBeLessThan(gunzipSync(full.body).length);

  // The stream: no content coding, and the first frame arrives without waiting for a buffer to fill.
  const stream = await new Promise<{ headers: http.IncomingHttpHeaders; first: string }>((resolve, reject) => {
    const req = http.get(`${base}/seats/stream`, { headers: { 'accept-encoding': 'gzip, br' }, agent: false }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c: string) => {
        text += c;
        if (text.includes('event: snapshot')) {
          req.destroy();
          resolve({ headers: res.headers, first: text });
        }
      });
    });
    req.on('error', reject);
  });
  expect(stream.headers['content-encoding']).toBeUndefined();
  expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);

  const buyer = await newBuyer(stack.api.url);
  const authed = await rawGet(`${base}/seats/status`, { authorization: `Bearer ${buyer.token}` });
  expect(authed.headers['cache-control']).toBe('private, no-store');
  const error = await rawGet(`${stack.api.url}/v1/events/evt_doesnotexist000/seats/status`);
  expect(error.status).toBe(404);
  expect(error.headers['cache-control']).toBe('no-store');
});

test('with Redis unreachable, seat maps and counts come from Postgres', async () => {
  const eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN);
  const buyer = await newBuyer(stack.api.url);
  expect((await hold(stack.api.url, buyer.token, eventId, ['A-1-1'])).status).toBe(201);
  const blind = await startApi({ ...config, REDIS_URL: 'redis://127.0.0.1:1' });
  try {
    const m = await statuses(blind.url, eventId);
    expect(m.map['A-1-1']).toBe('held');
    const event = okBody(await reply(events(blind.url).$get({ param: { eventId } })));
    expect(event.counts).toEqual({ available: 49, held: 1, sold: 0 });
    const compact = await compactStatuses(blind.url, eventId);
    expect(compact.map).toEqual(m.map);
  } finally {
    await blind.stop();
  }
});
