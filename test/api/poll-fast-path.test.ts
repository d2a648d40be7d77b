/**
 * GET /queue/me's fast path gives exactly the answer the route gives. Two APIs
 * run side by side on the same Postgres and Redis, one with the fast path and
 * one without; every request goes to both and their answers are compared
 * status, body and header by header (the request id and date aside). The
 * waiting buyers' polls must actually take the fast path, and everything it
 * leaves to the app (CORS, query strings, bad tokens, unknown events, buyers
 * out of line, polls over the limit) must come back the same too.
 */
import { createBuyerTokens } from '../../services/buyer-tokens';
import { pollFastPath } from '../../api/poll-fast-path';
import type { Services } from '../../api/deps';
import { type RunningApi, startApi, testConfig } from '../../harness/stack';
import { createEvent } from '../support/http';

jest.setTimeout(60_000);

const config = testConfig({ TRUST_PROXY_HOPS: '1', CORS_ORIGINS: 'https://shop.example' });
const tokens = createBuyerTokens({ mode: 'development', secret: config.BUYER_TOKEN_SECRET, issuer: config.BUYER_TOKEN_ISSUER });
let fast: RunningApi;
let plain: RunningApi;

beforeAll(async () => {
  [fast, plain] = await Promise.all([startApi(config), startApi(config, { fastPath: false })]);
});
afterAll(async () => {
  await Promise.all([fast?.stop(), plain?.stop()]);
});

let n = 0;
async function buyer() {
  const buyerId = `byr_fastpoll${++n}${Date.now().toString(36)}`;
  return { buyerId, token: await tokens.issue!({ buyerId, name: 'Poller', email: `${buyerId}@buyers.onsale.test` }) };
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}
async function ask(api: RunningApi, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(api.url + path, { method: init.method ?? 'GET', headers: init.headers });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'date') headers[k] = v;
  });
  return { status: res.status, body: await res.text(), headers };
}

/**
 * A poll the fast API's fast path answers. The line state it answers from is
 * fresh for 100 ms; a poll after that goes to the app, which reads it again,
 * so on a slow machine a poll may need asking twice.
 */
async function askFastPath(path: string, headers: Record<string, string>): Promise<Answer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = fast.api.fastAnswers;
    const answer = await ask(fast, path, { headers });
    if (fast.api.fastAnswers > before) return answer;
  }
  throw new Error(`the fast path never answered ${path}`);
}

/** The same request to both APIs; the answers must match but for a fresh request id. */
async function both(path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const [a, b] = [await ask(fast, path, init), await ask(plain, path, init)];
  const id = (x: Answer) => ({ ...x, headers: { ...x.headers, 'x-request-id': x.headers['x-request-id'] ? 'present' : 'absent' } });
  expect(id(a)).toEqual(id(b));
  return a;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.7' });

async function lineWith(count: number, room: Record<string, unknown> = {}) {
  const eventId = await createEvent(fast.url, config.ADMIN_TOKEN, {
    waitingRoom: { enabled: true, maxActiveCheckouts: 1, admitPerMinute: 1, powDemandDifficulty: 0, ...room },
  });
  const buyers = [];
  for (let i = 0; i < count; i++) {
    const b = await buyer();
    const joined = await fetch(`${fast.url}/v1/events/${eventId}/queue`, {
      method: 'POST',
      headers: { ...auth(b.token), 'x-forwarded-for': `203.0.113.${i + 1}` },
    });
    expect([200, 201]).toContain(joined.status);
    buyers.push(b);
  }
  return { eventId, buyers };
}

test('a waiting buyer’s poll is answered by the fast path, exactly as the route answers it', async () => {
  const { eventId, buyers } = await lineWith(4);
  const before = fast.api.fastAnswers;
  for (let round = 0; round < 3; round++) {
    for (const b of buyers) {
      const a = await both(`/v1/events/${eventId}/queue/me`, { headers: auth(b.token) });
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toMatchObject({ status: 'waiting' });
      expect(a.headers['cache-control']).toBe('private, no-store');
    }
  }
  // The first poll of each buyer fills the caches through the app; the rest come from memory.
  expect(fast.api.fastAnswers - before).toBeGreaterThanOrEqual(buyers.length);
  expect(plain.api.fastAnswers).toBe(0);
});

test('the request id is kept or made by the same rule', async () => {
  const { eventId, buyers } = await lineWith(1);
  const path = `/v1/events/${eventId}/queue/me`;
  await both(path, { headers: auth(buyers[0]!.token) });
  for (const [given, kept] of [
    ['trace-1234_abc=', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['has spaces', false],
    ['', false],
  ] as const) {
    const headers = { ...auth(buyers[0]!.token), 'x-request-id': given };
    const [a, b] = [await askFastPath(path, headers), await ask(plain, path, { headers })];
    expect(a.headers['x-request-id'] === given).toBe(kept);
    expect(b.headers['x-request-id'] === given).toBe(kept);
    expect(a.headers['x-request-id']).toMatch(/^[\w\-=]{1,128}$/);
  }
});

test('what the fast path leaves to the app comes back the same', async () => {
  const { eventId, buyers } = await lineWith(1, { statusLimitPerBuyer: 6 });
  const path = `/v1/events/${eventId}/queue/me`;
  const token = buyers[0]!.token;
  await both(path, { headers: auth(token) });
  const outsider = await buyer();
  const before = fast.api.fastAnswers;
  // CORS from an allowed and a foreign origin, a query string, no token, a bad token, a buyer out of line, an unknown
  // event, a malformed event id, HEAD.
  expect((await both(path, { headers: { ...auth(token), origin: 'https://shop.example' } })).headers['access-control-allow-origin']).toBe(
    'https://shop.example',
  );
  await both(path, { headers: { ...auth(token), origin: 'https://elsewhere.example' } });
  expect((await both(`${path}?x=1`, { headers: auth(token) })).status).toBe(200);
  expect((await both(path)).status).toBe(401);
  expect((await both(path, { headers: auth(`${token.slice(0, -4)}AAAA`) })).status).toBe(401);
  expect((await both(path, { headers: auth(outsider.token) })).status).toBe(404);
  expect((await both('/v1/events/evt_doesnotexist/queue/me', { headers: auth(token) })).status).toBe(404);
  expect((await both('/v1/events/not%20an%20id/queue/me', { headers: auth(token) })).status).toBe(400);
  expect((await both(path, { method: 'HEAD', headers: auth(token) })).status).toBe(200);
  expect(fast.api.fastAnswers - before).toBe(0);
});

test('a poll over the limit gets the route’s 429 from both', async () => {
  const { eventId, buyers } = await lineWith(1, { statusLimitPerBuyer: 3 });
  const path = `/v1/events/${eventId}/queue/me`;
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await both(path, { headers: auth(buyers[0]!.token) })).status);
  expect(statuses).toEqual([200, 200, 200, 429, 429]);
});

test('answers from the fast path are counted under the route’s own metrics label', async () => {
  const { eventId, buyers } = await lineWith(1);
  for (let i = 0; i < 3; i++) await both(`/v1/events/${eventId}/queue/me`, { headers: auth(buyers[0]!.token) });
  const series = async (api: RunningApi) => {
    const text = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${config.ADMIN_TOKEN}` } })).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('onsale_http_requests_total{') && l.includes('/queue/me') && l.includes('status="200"'));
    return line?.replace(/\s\d+$/, '');
  };
  expect(await series(fast)).toBeDefined();
  expect(await series(fast)).toBe(await series(plain));
});

test('a re-read of the seat map or statuses with the current ETag gets the route’s 304, from memory', async () => {
  const eventId = await createEvent(fast.url, config.ADMIN_TOKEN);
  for (const path of [`/v1/events/${eventId}/seats/status`, `/v1/events/${eventId}/seatmap`]) {
    const first = await both(path, { headers: { 'accept-encoding': 'gzip' } });
    expect(first.status).toBe(200);
    const etag = first.headers.etag!;
    const before = fast.api.fastAnswers;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"stale", ${etag}`]) {
      // Each right after a full read, while the prepared answer is fresh in both processes.
      await both(path, { headers: { 'accept-encoding': 'gzip' } });
      const again = await both(path, { headers: { 'accept-encoding': 'gzip', 'if-none-match': ifNoneMatch } });
      expect(again.status).toBe(304);
      expect(again.headers.etag).toBe(etag);
    }
    expect(fast.api.fastAnswers - before).toBeGreaterThanOrEqual(1);
    // A version the client does not hold, credentials, or an Origin: the app's answer, the same from both.
    const aside = fast.api.fastAnswers;
    expect((await both(path, { headers: { 'if-none-match': '"not-a-version"', 'accept-encoding': 'gzip' } })).status).toBe(200);
    expect((await both(path, { headers: { 'if-none-match': etag, authorization: `Bearer ${config.ADMIN_TOKEN}` } })).status).toBe(304);
    expect((await both(path, { headers: { 'if-none-match': etag, origin: 'https://shop.example' } })).status).toBe(304);
    expect(fast.api.fastAnswers).toBe(aside);
  }
});

test('a process shedding load sends every poll to the app, which sheds it', () => {
  const services = {
    buyerTokens: { known: () => ({ buyerId: 'b' }) },
    events: { known: () => ({ waitingRoom: { statusLimitPerBuyer: 100, rateWindowSeconds: 10 } }) },
    waiting: { known: () => ({ status: 'waiting', position: 2 }) },
    statusPolls: { hit: () => 0 },
  } as unknown as Services;
  let load: 'event_loop_lag' | null = 'event_loop_lag';
  const path = pollFastPath(services, { overloaded: () => load }, []);
  const req = { method: 'GET', url: '/v1/events/e1/queue/me', headers: { authorization: 'Bearer abcdefghijkl' } };
  let written = 0;
  const res = { writeHead: () => written++, end: () => undefined };
  expect(path(req as never, res as never)).toBe(false);
  load = null;
  expect(path(req as never, res as never)).toBe(true);
  expect(written).toBe(1);
});
