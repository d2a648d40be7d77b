/**
 * The polls a crowd repeats, answered before the framework: GET
 * /v1/events/{eventId}/queue/me for a buyer still waiting, and the seat map's
 * conditional re-reads (GET /seats/status and /seatmap with the current ETag
 * in If-None-Match, answered 304 from the prepared answer in memory, as the
 * routes answer them).
 *
 * /queue/me is the call a million buyers make every two seconds, and almost
 * every one of them gets an answer this process already
 * holds in memory: the token verified a moment ago, the event read within the
 * second, the buyer's place in a sealed line and the line's state. Through
 * Hono that answer cost the API about 56 µs of CPU against 37 for GET
 * /healthz; here it costs what /healthz costs (38 µs against 38 in
 * bench/read-paths.ts, README "Performance").
 *
 * The fast path answers only when every part of the answer is already known,
 * in the same tick, and gives exactly the answer the route would give
 * (test/api/poll-fast-path.test.ts compares the two, header by header):
 * the same status and body, the same security, cache and CORS headers, the
 * request id kept or made by the same rule, the same request metrics, and the
 * same per-buyer poll limit. Anything else goes to the app untouched: another
 * method or path, a query string, an Origin (CORS), a token or event not in
 * the caches, a buyer admitted, in the pre-queue or out of line, a poll over
 * its limit, a process shedding load, and every request while tracing is on.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { countStatusPoll } from '../services/rate-limit';
import type { Services } from './deps';
import { matchesEtag } from './http-cache';
import { httpDuration, httpRequests } from './metrics';
import { bearer } from './middleware/auth';
import type { LoadShedder } from './middleware/shed';

const ME = /^\/v1\/events\/([^/?#]+)\/queue\/me$/;
const SEAT_READ = /^\/v1\/events\/([^/?#]+)\/(seats\/status|seatmap)$/;
/** As hono/request-id keeps a caller's id (at most 128 characters, as the app configures it). */
const REQUEST_ID = /^[\w\-=]{1,128}$/;
/** The route as Hono's routePath() names it in the request metrics. */
export const ME_ROUTE = '/v1/events/:eventId/queue/me';
const STATUS_ROUTE = '/v1/events/:eventId/seats/status';
const LAYOUT_ROUTE = '/v1/events/:eventId/seatmap';

/** The headers every /v1 answer carries whatever its body (the security headers from the app's own answer, CORS, Vary). */
export async function pollAnswerHeaders(app: { request(path: string): Response | Promise<Response> }): Promise<string[]> {
  const sample = await app.request('/healthz');
  const fixed: string[] = [];
  const own = new Set(['x-request-id', 'content-length', 'content-type', 'vary', 'cache-control']);
  sample.headers.forEach((value, name) => {
    if (!own.has(name)) fixed.push(name, value);
  });
  // What /v1 adds for a request with no Origin (api/middleware/edge.ts).
  fixed.push('access-control-expose-headers', 'X-Request-Id', 'vary', 'Accept-Encoding, Origin');
  return fixed;
}

/** As hono/request-id: the caller's id when well formed, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The fast path as a function of the raw request: true when it answered, false
 * to hand the request to the app.
 */
export function pollFastPath(services: Services, shed: Pick<LoadShedder, 'overloaded'>, headers: string[]) {
  const meHeaders = [...headers, 'cache-control', 'private, no-store', 'content-type', 'application/json'];

  function me(req: IncomingMessage, res: ServerResponse, eventId: string, started: number): boolean {
    const token = bearer(req.headers.authorization);
    const buyer = token && services.buyerTokens.known(token);
    const event = buyer && services.events.known(eventId);
    if (!buyer || !event) return false;
    const now = Date.now();
    const status = services.waiting.known(eventId, buyer.buyerId, now);
    if (!status) return false;
    // Counted here; a poll over the limit then goes to the app, whose second count changes nothing (a fixed window).
    if (countStatusPoll(services.statusPolls, eventId, buyer.buyerId, event.waitingRoom, now).retryAfterMs > 0) return false;
    const { admissionDeadline: _deadline, admissionUsed: _used, lineSeed: _seed, ...view } = status;
    const body = JSON.stringify(view);
    res.writeHead(200, [...meHeaders, 'x-request-id', requestIdOf(req), 'content-length', String(Buffer.byteLength(body))]);
    res.end(body);
    record(ME_ROUTE, 200, started);
    return true;
  }

  /** A conditional re-read naming the version in memory: 304, as sendPrepared() answers it (an answer with credentials is the app's: private). */
  function notModified(req: IncomingMessage, res: ServerResponse, eventId: string, which: string, started: number): boolean {
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch === undefined || req.headers.authorization !== undefined) return false;
    const answer = which === 'seatmap' ? services.seatReads.peekLayout(eventId) : services.seatReads.peekStatuses(eventId);
    if (!answer || !matchesEtag(ifNoneMatch, answer.etag)) return false;
    res.writeHead(304, [...headers, 'etag', answer.etag, 'cache-control', answer.cacheControl, 'x-request-id', requestIdOf(req)]);
    res.end();
    record(which === 'seatmap' ? LAYOUT_ROUTE : STATUS_ROUTE, 304, started);
    return true;
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || req.headers.origin !== undefined) return false;
    const url = req.url ?? '';
    const poll = ME.exec(url);
    const read = poll ? null : SEAT_READ.exec(url);
    if ((!poll && !read) || shed.overloaded()) return false;
    const started = performance.now();
    return poll ? me(req, res, poll[1]!, started) : notModified(req, res, read![1]!, read![2]!, started);
  };
}

function record(route: string, status: number, started: number): void {
  httpRequests.inc({ method: 'GET', route, status });
  httpDuration.observe({ method: 'GET', route }, (performance.now() - started) / 1000);
}
