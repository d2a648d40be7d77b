/**
 * The floor under the waiting room's two hot calls: the API process as it is,
 * except that POST /v1/events/{id}/queue and GET /v1/events/{id}/queue/me are
 * answered before Hono by straight-line code that does only what those answers
 * cannot do without. Every other request, GET /healthz included, goes through
 * the API's own app. Started by `bench/read-paths.ts --floor`, which measures
 * it beside the real API: the ratio of each call to this server's /healthz is
 * the most that any reworking of the framework, routing and middleware could
 * give that call, and the parts named in FLOOR_SKIP show what each piece of
 * the irreducible work costs.
 *
 * The work kept, for a new buyer joining a line without proof of work:
 * verify the bearer token (the API's own verifier and cache), read the event
 * (the API's cache), one Redis call (the join script), a JSON answer with the
 * API's response headers. For a poll: the token (a cache hit), the event, the
 * per-buyer poll limit, the status (the API's local status cache), JSON.
 *
 * FLOOR_SKIP=verify,redis (either or both) drops that piece too: `verify`
 * reads the buyer id from the token without checking its signature, `redis`
 * answers a fixed place. Never a way to run the API: this is a measuring
 * instrument, and it answers only the cases the benchmark sends (anything
 * else on those two paths falls through to the API).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { WAKE_GATE_MS } from '../api/admission-control';
import { createApp } from '../api/app';
import { buildApiDeps, buildServices, keepConnectionsAlive } from '../api/deps';
import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { pollAnswerHeaders } from '../api/poll-fast-path';
import { countStatusPoll } from '../services/rate-limit';

const skip = new Set((process.env.FLOOR_SKIP ?? '').split(',').filter(Boolean));
const JOIN = /^\/v1\/events\/([^/?]+)\/queue$/;
const ME = /^\/v1\/events\/([^/?]+)\/queue\/me$/;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const deps = await buildApiDeps(config, createLogger('api', config.LOG_LEVEL));
  const services = buildServices(deps);
  const app = createApp(deps, services);
  const api = getRequestListener(app.fetch);

  // The API's own headers for a JSON answer to a buyer, as its fast path takes them from the app.
  const fixed = [...(await pollAnswerHeaders(app)), 'cache-control', 'private, no-store', 'content-type', 'application/json'];

  const answer = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, [...fixed, 'x-request-id', randomUUID(), 'content-length', String(Buffer.byteLength(body))]);
    res.end(body);
  };
  const buyerOf = async (token: string): Promise<{ buyerId: string; risk?: number } | null> =>
    skip.has('verify')
      ? { buyerId: (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub }
      : services.buyerTokens.verify(token);

  /** True when it answered; false leaves the request to the API. */
  async function join(req: IncomingMessage, res: ServerResponse, eventId: string, token: string): Promise<boolean> {
    const buyer = await buyerOf(token);
    if (!buyer) return false;
    const event = await services.events.event(eventId);
    const wr = event.waitingRoom;
    // What the benchmark's line asks: no proof of work, no identity rules. Anything else is the API's to answer.
    if (!wr.enabled || wr.powDifficulty > 0 || wr.powDemandDifficulty > 0 || wr.requireVerifiedIdentity || buyer.risk) return false;
    const place = skip.has('redis')
      ? { position: 1, created: true, status: undefined, prequeue: false }
      : await services.room.join(eventId, buyer.buyerId, {
          beforeSale: event.onSaleAt.getTime() > Date.now(),
          ip: String(req.headers['x-forwarded-for'] ?? req.socket.remoteAddress),
          maxPlacesPerIp: wr.maxPlacesPerIp,
          limits: { windowMs: wr.rateWindowSeconds * 1000, perBuyer: wr.joinLimitPerBuyer, perIp: wr.joinLimitPerIp },
          wakeGateMs: WAKE_GATE_MS,
        });
    if (!place) return false;
    answer(res, place.created ? 201 : 200, { position: place.position, status: place.status ?? (place.prequeue ? 'prequeue' : 'waiting') });
    return true;
  }

  async function me(res: ServerResponse, eventId: string, token: string): Promise<boolean> {
    const buyer = await buyerOf(token);
    if (!buyer) return false;
    const event = await services.events.event(eventId);
    const now = Date.now();
    if (countStatusPoll(services.statusPolls, eventId, buyer.buyerId, event.waitingRoom, now).retryAfterMs > 0) return false;
    const s = await services.waiting.status(eventId, buyer.buyerId, now);
    if (!s || s.status === 'admitted' || s.status === 'prequeue') return false;
    const { admissionDeadline: _d, admissionUsed: _u, lineSeed: _s, ...view } = s;
    answer(res, 200, view);
    return true;
  }

  const server = createServer((req, res) => {
    const auth = req.headers.authorization;
    const url = req.url ?? '';
    const route = auth?.startsWith('Bearer ') && req.headers.origin === undefined ? (req.method === 'POST' ? JOIN : ME).exec(url) : null;
    if (!route || (req.method !== 'POST' && req.method !== 'GET')) return void api(req, res);
    const token = auth!.slice(7);
    const handled = req.method === 'POST' ? join(req, res, route[1]!, token) : me(res, route[1]!, token);
    handled.then(
      (done) => done || void api(req, res),
      () => void api(req, res),
    );
  });
  keepConnectionsAlive(server);
  server.listen(config.API_PORT, config.API_HOST);
  const stop = () => server.close(() => void Promise.allSettled([deps.pool.end(), deps.redis.quit()]).then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`read floor failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
