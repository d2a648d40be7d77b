/**
 * GET /v1/events/{eventId}/queue/me for a buyer still waiting, answered
 * before the framework. It is the call a million buyers make every two
 * seconds, and almost every one of them gets an answer this process already
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
import type { Services } from './deps';
import { httpDuration, httpRequests } from './metrics';
import type { LoadShedder } from './middleware/shed';

const ME = /^\/v1\/events\/([^/?#]+)\/queue\/me$/;
/** As api/middleware/auth.ts reads the header. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/;
/** As hono/request-id keeps a caller's id (at most 128 characters, as the app configures it). */
const REQUEST_ID = /^[\w\-=]{1,128}$/;
/** The route as Hono's routePath() names it in the request metrics. */
export const ME_ROUTE = '/v1/events/:eventId/queue/me';

/** The headers every /v1 answer to a buyer carries whatever its body: taken from the app's own answer. */
export async function pollAnswerHeaders(app: { request(path: string): Response | Promise<Response> }): Promise<string[]> {
  const sample = await app.request('/healthz');
  const fixed: string[] = [];
  const own = new Set(['x-request-id', 'content-length', 'content-type', 'vary', 'cache-control']);
  sample.headers.forEach((value, name) => {
    if (!own.has(name)) fixed.push(name, value);
  });
  // What /v1 adds for a request with credentials and no Origin (api/middleware/edge.ts).
  fixed.push('access-control-expose-headers', 'X-Request-Id', 'vary', 'Accept-Encoding, Origin', 'cache-control', 'private, no-store');
  return fixed;
}

/**
 * The fast path as a function of the raw request: true when it answered, false
 * to hand the request to the app.
 */
export function pollFastPath(services: Services, shed: Pick<LoadShedder, 'overloaded'>, headers: string[]) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET') return false;
    const route = ME.exec(req.url ?? '');
    if (!route || req.headers.origin !== undefined) return false;
    const bearer = BEARER.exec(req.headers.authorization ?? '');
    if (!bearer || shed.overloaded()) return false;
    const started = performance.now();
    const eventId = route[1]!;
    const buyer = services.buyerTokens.known(bearer[1]!);
    const event = buyer && services.events.known(eventId);
    if (!buyer || !event) return false;
    const now = Date.now();
    const status = services.waiting.known(eventId, buyer.buyerId, now);
    if (!status) return false;
    const wr = event.waitingRoom;
    // Counted here; a poll over the limit then goes to the app, whose second count changes nothing (a fixed window).
    if (
      services.statusPolls.hit(
        `${eventId} ${buyer.buyerId}`,
        { limit: wr.statusLimitPerBuyer, windowMs: wr.rateWindowSeconds * 1000 },
        now,
      ) > 0
    ) {
      return false;
    }
    const { admissionDeadline: _deadline, admissionUsed: _used, lineSeed: _seed, ...view } = status;
    const body = JSON.stringify(view);
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.writeHead(200, [
      ...headers,
      'x-request-id',
      requestId,
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(body)),
    ]);
    res.end(body);
    httpRequests.inc({ method: 'GET', route: ME_ROUTE, status: 200 });
    httpDuration.observe({ method: 'GET', route: ME_ROUTE }, (performance.now() - started) / 1000);
    return true;
  };
}
