import { createRoute } from '@hono/zod-openapi';
import { insertBuyer } from '../../db/queries/buyers';
import { DomainError } from '../../domain/errors';
import { DEMAND_SLACK_BITS, powDifficultyFor, seatLimit, seatLimitRefusal } from '../../domain/fairness';
import type { Buyer } from '../../services/buyer-tokens';
import { countStatusPoll, rateLimited } from '../../services/rate-limit';
import type { WaitingRoom } from '../../services/waiting-room';
import { ProofOfWork } from '../../services/pow';
import { WAKE_GATE_MS } from '../admission-control';
import { clientIp } from '../client-ip';
import type { EventsView } from '../events-view';
import { admittedLinks, buyerEventLinks, publicEventLinks } from '../links';
import { requireBuyer } from '../middleware/auth';
import { lean } from '../lean-inputs';
import { router } from '../router';
import {
  Challenge,
  errorResponses,
  EventIdParam,
  JoinBody,
  JoinResult,
  QueueMe,
  QueueProgress,
  WaitlistBody,
  WaitlistResult,
} from '../schemas';

const buyerOnly = { security: [{ buyer: [] }], middleware: requireBuyer };

/** From a place in the queue: its status (and the admission token in time), the queue's progress, a hold. */
const QUEUED = {
  GetQueueStatus: buyerEventLinks('$request.path.eventId').GetQueueStatus!,
  GetQueueProgress: publicEventLinks('$request.path.eventId').GetQueueProgress!,
  HoldSeats: buyerEventLinks('$request.path.eventId').HoldSeats!,
};

const challenge = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/queue/challenge',
  tags: ['Waiting room'],
  ...buyerOnly,
  request: { params: EventIdParam },
  responses: {
    200: { description: 'A proof-of-work challenge for joining', content: { 'application/json': { schema: Challenge } } },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const join = createRoute({
  method: 'post',
  path: '/v1/events/{eventId}/queue',
  tags: ['Waiting room'],
  ...buyerOnly,
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: JoinBody } }, required: false } },
  responses: {
    201: { description: 'Joined', content: { 'application/json': { schema: JoinResult } }, links: QUEUED },
    200: { description: 'Already in the queue: the same place', content: { 'application/json': { schema: JoinResult } }, links: QUEUED },
    ...errorResponses(400, 401, 403, 404, 409, 413, 429),
  },
});

const me = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/queue/me',
  tags: ['Waiting room'],
  ...buyerOnly,
  request: { params: EventIdParam },
  responses: {
    200: { description: "The buyer's place", content: { 'application/json': { schema: QueueMe } }, links: admittedLinks() },
    ...errorResponses(400, 401, 404, 429),
  },
});

const progress = createRoute({
  method: 'get',
  path: '/v1/events/{eventId}/queue/progress',
  tags: ['Waiting room'],
  description: 'Public and cacheable for one second, so a CDN absorbs the pollers.',
  request: { params: EventIdParam },
  responses: {
    200: { description: 'Queue progress', content: { 'application/json': { schema: QueueProgress } } },
    ...errorResponses(400, 404, 409),
  },
});

const waitlist = createRoute({
  method: 'post',
  path: '/v1/events/{eventId}/waitlist',
  tags: ['Waitlist'],
  ...buyerOnly,
  request: { params: EventIdParam, body: { content: { 'application/json': { schema: WaitlistBody } }, required: true } },
  responses: {
    201: { description: 'On the waitlist', content: { 'application/json': { schema: WaitlistResult } } },
    200: { description: 'Already on the waitlist', content: { 'application/json': { schema: WaitlistResult } } },
    ...errorResponses(400, 401, 404, 409, 413, 422, 429),
  },
});

/** Waitlist joins are rare: a fixed per-buyer limit across events is enough. */
const WAITLIST_PER_BUYER = { limit: 10, windowMs: 10_000 };

export function queueRoutes(powSecret: string) {
  const pow = new ProofOfWork(powSecret);
  const progressCache = new Map<string, { at: number; body: { servingPosition: number; queueLength: number; status: string } }>();

  /**
   * The length of the line that prices proof of work: read from Redis at most
   * once a second per event and API process, plus the places this process has
   * handed out since, so a farm that fires its whole burst inside one second
   * still meets the price its own joins set.
   */
  const demandCache = new Map<string, { at: number; waiting: number; since: number }>();
  async function waitingNow(room: WaitingRoom, eventId: string, now = Date.now()): Promise<number> {
    let hit = demandCache.get(eventId);
    if (!hit || now - hit.at >= 1000) {
      const p = await room.progress(eventId);
      hit = { at: now, waiting: Math.max(0, p.queueLength - p.servingPosition), since: 0 };
      if (demandCache.size > 10_000) demandCache.clear();
      demandCache.set(eventId, hit);
    }
    return hit.waiting + hit.since;
  }
  const counted = (eventId: string) => {
    const hit = demandCache.get(eventId);
    if (hit) hit.since++;
  };

  /**
   * What joining costs this buyer now: the identity provider's signals first
   * (refused when too risky, or when the event wants a verified person and
   * the token has none), then proof of work that rises with the line.
   */
  async function joinDifficulty(room: WaitingRoom, event: Awaited<ReturnType<EventsView['event']>>, buyer: Buyer): Promise<number> {
    const wr = event.waitingRoom;
    const risk = buyer.risk ?? 0;
    if (risk > wr.riskRefuseAbove) {
      throw new DomainError('FORBIDDEN', 'this account cannot join the line for this event', { reason: 'risk' });
    }
    if (wr.requireVerifiedIdentity && !buyer.verifiedIdentity) {
      throw new DomainError('FORBIDDEN', 'this sale is for verified buyers: verify your identity first', { reason: 'identity_required' });
    }
    return powDifficultyFor(wr, await waitingNow(room, event.id), risk);
  }

  async function roomEvent(events: EventsView, eventId: string) {
    const event = await events.event(eventId);
    if (!event.waitingRoom.enabled) {
      throw new DomainError('WAITING_ROOM_DISABLED', 'this event has no waiting room: hold seats directly');
    }
    if (event.state === 'draft' || event.state === 'closed') {
      throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale', { state: event.state });
    }
    return event;
  }

  const r = router();
  return r
    .openapi(challenge, async (c) => {
      const { eventId } = c.req.valid('param');
      const event = await roomEvent(c.var.services.events, eventId);
      const difficulty = await joinDifficulty(c.var.services.room, event, c.var.buyer);
      return c.json({ challenge: pow.challenge(eventId, c.var.buyer.buyerId, difficulty), difficulty }, 200);
    })
    .openapi(lean(r, join), async (c) => {
      // c.get(), not c.var: each read of c.var copies every variable into a new object.
      const services = c.get('services');
      const { room } = services;
      const { eventId } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      const buyer = c.get('buyer');
      const ip = clientIp(c, services.config.TRUST_PROXY_HOPS);
      const event = await roomEvent(services.events, eventId);
      const difficulty = await joinDifficulty(room, event, buyer);
      // A rise in demand while the buyer was solving costs them at most DEMAND_SLACK_BITS; the risk bits are never waived.
      const floor = Math.min(difficulty, Math.max(difficulty - DEMAND_SLACK_BITS, powDifficultyFor(event.waitingRoom, 0, buyer.risk ?? 0)));
      if (difficulty > 0 && !(body.pow && pow.verify(eventId, buyer.buyerId, body.pow.challenge, body.pow.nonce, floor))) {
        throw new DomainError('FORBIDDEN', 'solve the proof-of-work challenge first', {
          reason: 'proof_of_work',
          challenge: pow.challenge(eventId, buyer.buyerId, difficulty),
          difficulty,
        });
      }
      const wr = event.waitingRoom;
      const place = await room.join(eventId, buyer.buyerId, {
        beforeSale: event.onSaleAt.getTime() > Date.now(),
        ip,
        maxPlacesPerIp: wr.maxPlacesPerIp,
        limits: { windowMs: wr.rateWindowSeconds * 1000, perBuyer: wr.joinLimitPerBuyer, perIp: wr.joinLimitPerIp },
        wakeGateMs: WAKE_GATE_MS,
        ...(buyer.verifiedIdentity && { identity: { id: buyer.verifiedIdentity, maxPlaces: wr.maxPlacesPerIdentity } }),
        back: wr.verifiedFirst && !buyer.verifiedIdentity,
        risky: (buyer.risk ?? 0) > wr.riskExtraPowAbove,
      });
      if (!place) {
        throw new DomainError('RATE_LIMITED', 'too many queue places from this address', {
          reason: 'places_per_ip',
          retryAfterSeconds: 60,
        });
      }
      if (place.created) counted(eventId);
      if (place.wake) await services.control.sendWake(eventId);
      const status = place.status ?? (place.prequeue ? 'prequeue' : 'waiting');
      return c.json({ position: place.position, status }, place.created ? 201 : 200);
    })
    .openapi(lean(r, me), async (c) => {
      const { events, waiting, statusPolls, admissions } = c.get('services');
      const { eventId } = c.req.valid('param');
      const buyer = c.get('buyer');
      const event = await events.event(eventId);
      const now = Date.now();
      const { limit, retryAfterMs } = countStatusPoll(statusPolls, eventId, buyer.buyerId, event.waitingRoom, now);
      if (retryAfterMs > 0) throw rateLimited('queue-me', limit, retryAfterMs);
      const s = await waiting.status(eventId, buyer.buyerId, now);
      if (!s) throw new DomainError('NOT_FOUND', 'you are not in the queue for this event', { eventId });
      const { admissionDeadline, admissionUsed, lineSeed: _seed, ...view } = s;
      if (view.status === 'prequeue') {
        view.estimatedWaitSeconds = Math.max(0, Math.ceil((event.onSaleAt.getTime() - Date.now()) / 1000));
      }
      if (view.status === 'admitted' && admissionDeadline && !admissionUsed) {
        const admissionToken = await admissions.issue({
          buyerId: buyer.buyerId,
          eventId,
          position: view.position,
          expiresAtMs: admissionDeadline,
        });
        return c.json({ ...view, admissionToken, admissionExpiresAt: new Date(admissionDeadline).toISOString() }, 200);
      }
      return c.json(view, 200);
    })
    .openapi(progress, async (c) => {
      const { room } = c.var.services;
      const { eventId } = c.req.valid('param');
      const now = Date.now();
      let hit = progressCache.get(eventId);
      if (!hit || now - hit.at >= 1000) {
        await roomEvent(c.var.services.events, eventId);
        hit = { at: now, body: await room.progress(eventId) };
        if (progressCache.size > 10_000) progressCache.clear();
        progressCache.set(eventId, hit);
      }
      c.header('Cache-Control', 'public, max-age=1');
      return c.json(hit.body, 200);
    })
    .openapi(waitlist, async (c) => {
      const { events, room, limiter } = c.var.services;
      const { eventId } = c.req.valid('param');
      const { quantity } = c.req.valid('json');
      const buyer = c.var.buyer;
      await limiter.check('waitlist', buyer.buyerId, WAITLIST_PER_BUYER);
      const event = await events.event(eventId);
      if (event.state !== 'open') throw new DomainError('EVENT_NOT_ON_SALE', 'this event is not on sale', { state: event.state });
      const limit = seatLimit(event.maxSeatsPerBuyer, event.waitingRoom, buyer, c.var.services.config.BUYER_TOKEN_VERIFIES_PEOPLE);
      const refusal = seatLimitRefusal(event.maxSeatsPerBuyer, limit, quantity);
      if (refusal) throw refusal;
      const counts = await events.counts(eventId);
      if (counts.available > 0) {
        throw new DomainError('NOT_SOLD_OUT', 'seats are still available: join the queue or hold them', { available: counts.available });
      }
      await insertBuyer(c.var.services.pool, { id: buyer.buyerId, name: buyer.name, email: buyer.email });
      const place = await room.joinWaitlist(eventId, buyer.buyerId, quantity);
      if (place.created) await c.var.services.control.wake(eventId);
      return c.json({ position: place.position }, place.created ? 201 : 200);
    });
}
