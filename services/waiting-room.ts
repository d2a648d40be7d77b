/**
 * The waiting room's Redis side. Joining, status and progress are O(1) Redis
 * work per buyer and never touch Temporal; the admission workflow moves the
 * serving position through activities that call `admitThrough`.
 *
 * Places: a buyer who joins before the on-sale time goes to the pre-queue
 * (a list in arrival order). At the on-sale time the queue is sealed: the
 * pre-queue's size is reserved as positions 1..N, later arrivals take N+1,
 * N+2, … strictly first come first served, and the pre-queue is shuffled
 * into 1..N with a recorded seed.
 */
import type Redis from 'ioredis';
import type { QueueStatus, RoomStatus } from '../domain/queue';
import type { Result } from 'ioredis';
import { eventRateKey, RATE_HIT_LUA, rateLimited } from './rate-limit';
import { newSeed, shuffle } from './shuffle';
import { DomainError } from '../domain/errors';

function keysOf(eventId: string) {
  const k = (name: string) => `wr:{${eventId}}:${name}`;
  return {
    places: k('places'), // buyer → position, or "p<n>" while in the pre-queue
    prequeue: k('pre'), // pre-queue buyers in arrival order
    prequeueBack: k('preback'), // pre-queue buyers placed after the others: unverified (with verifiedFirst) or risky
    prequeueRisky: k('prerisky'), // the risky ones among them, placed last
    seq: k('seq'), // last position handed out
    seed: k('seed'), // set when sealed
    assigned: k('assigned'), // set once the pre-queue has its positions
    at: k('at'), // position → buyer
    serving: k('serving'),
    deadlines: k('deadline'), // buyer → admission deadline (ms)
    pending: k('pending'), // zset buyer → deadline: admitted, no checkout yet
    used: k('used'), // buyers whose admission started a checkout
    status: k('status'), // open | paused | sold_out
    stats: k('stats'), // ratePerMinute, updatedAt
    waitlist: k('wl'), // list of "buyer:quantity"
    waitlistPlaces: k('wlplaces'), // buyer → waitlist position
    ipPlaces: k('ip'), // ip → number of places taken
    identityPlaces: k('idv'), // verified identity → number of places taken
    asleep: k('asleep'), // set while the admission controller sleeps with nobody waiting
    wakeGate: k('wake'), // held for a second after a wake-up is sent
  };
}

export type QueueKeys = Readonly<ReturnType<typeof keysOf>>;

/**
 * The waiting room's keys for an event, built once per event rather than on
 * every join and status poll (nineteen strings each time). The map is emptied
 * if it ever holds many events.
 */
const keysByEvent = new Map<string, QueueKeys>();
export function queueKeys(eventId: string): QueueKeys {
  let keys = keysByEvent.get(eventId);
  if (!keys) {
    if (keysByEvent.size >= 10_000) keysByEvent.clear();
    keys = Object.freeze(keysOf(eventId));
    keysByEvent.set(eventId, keys);
  }
  return keys;
}

/** A placed buyer's status, as /queue/me would report it (Lua; KEYS as in JOIN). */
const STATUS_OF_PLACE = `
local function status_of(place, buyer, nowMs)
  local lane = string.sub(place, 1, 1)
  if lane == 'p' or lane == 'b' then return 'prequeue' end
  local deadline = redis.call('HGET', KEYS[9], buyer)
  if deadline then
    if redis.call('SISMEMBER', KEYS[10], buyer) == 1 or tonumber(deadline) > nowMs then return 'admitted' end
    return 'expired'
  end
  if redis.call('GET', KEYS[11]) == 'sold_out' then return 'sold_out' end
  return 'waiting'
end`;

/**
 * The whole join in one call: the buyer's and the address's rate limits, the
 * per-address place cap, the place itself and the status to answer with.
 * A buyer who already has a place gets it back without spending the
 * address's budget, so a crowd behind one address can reload freely.
 * Answers {place, outcome, sealedNow, status, retryAfterMs}; outcome is
 * 1 created, 0 existing, -1 place cap, -2 buyer over limit, -3 address over limit,
 * -4 the verified identity's place cap.
 */
const JOIN = `${RATE_HIT_LUA}
${STATUS_OF_PLACE}
local buyer, nowMs, windowMs = ARGV[1], tonumber(ARGV[7]), tonumber(ARGV[6])
local buyerLimit, ipLimit = tonumber(ARGV[8]), tonumber(ARGV[9])
if buyerLimit > 0 then
  local wait = rate_hit(KEYS[8], buyerLimit, windowMs)
  if wait > 0 then return {'', -2, 0, '', wait} end
end
local existing = redis.call('HGET', KEYS[1], buyer)
if existing then return {existing, 0, 0, status_of(existing, buyer, nowMs), 0} end
if ipLimit > 0 then
  local wait = rate_hit(KEYS[7], ipLimit, windowMs)
  if wait > 0 then return {'', -3, 0, '', wait} end
end
local identity, identityLimit = ARGV[11], tonumber(ARGV[12])
if identity ~= '' and identityLimit > 0 and tonumber(redis.call('HGET', KEYS[14], identity) or '0') >= identityLimit then
  return {'', -4, 0, '', 0}
end
local limit = tonumber(ARGV[5])
if limit > 0 and tonumber(redis.call('HGET', KEYS[6], ARGV[4]) or '0') >= limit then return {'', -1, 0, '', 0} end
redis.call('HINCRBY', KEYS[6], ARGV[4], 1)
if identity ~= '' then redis.call('HINCRBY', KEYS[14], identity, 1) end
local sealed = redis.call('EXISTS', KEYS[4]) == 1
if ARGV[2] == 'pre' and not sealed then
  if ARGV[13] == '1' then
    if ARGV[14] == '1' then redis.call('SADD', KEYS[16], buyer) end
    local n = redis.call('RPUSH', KEYS[15], buyer)
    redis.call('HSET', KEYS[1], buyer, 'b' .. n)
    return {'b' .. n, 1, 0, 'prequeue', 0}
  end
  local n = redis.call('RPUSH', KEYS[2], buyer)
  redis.call('HSET', KEYS[1], buyer, 'p' .. n)
  return {'p' .. n, 1, 0, 'prequeue', 0}
end
local sealedNow = 0
if not sealed then
  redis.call('SET', KEYS[4], ARGV[3])
  redis.call('SET', KEYS[3], redis.call('LLEN', KEYS[2]) + redis.call('LLEN', KEYS[15]))
  sealedNow = 1
end
local pos = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], buyer, pos)
redis.call('HSET', KEYS[5], pos, buyer)
-- The wake-up gate (CLAIM_WAKE) in the same call: this joiner signals the controller if it sleeps.
local wake = 0
local gateMs = tonumber(ARGV[10] or '0')
if gateMs > 0 and redis.call('EXISTS', KEYS[12]) == 1 and redis.call('SET', KEYS[13], '1', 'NX', 'PX', gateMs) then
  redis.call('DEL', KEYS[12])
  wake = 1
end
return {tostring(pos), 1, sealedNow, status_of(tostring(pos), buyer, nowMs), 0, wake}`;

/**
 * /queue/me in one call: everything the answer needs (the poll limit is
 * counted by the API process that answers). Answers {place, serving,
 * deadline, used, status, rate, seed}.
 */
const STATUS = `
return {
  redis.call('HGET', KEYS[1], ARGV[1]) or '',
  redis.call('GET', KEYS[2]) or '',
  redis.call('HGET', KEYS[3], ARGV[1]) or '',
  redis.call('SISMEMBER', KEYS[4], ARGV[1]),
  redis.call('GET', KEYS[5]) or '',
  redis.call('HGET', KEYS[6], 'ratePerMinute') or '',
  redis.call('GET', KEYS[7]) or ''}`;

/** The line's shared state (no buyer's): {serving, seq, status, rate, waitlist joins, seed}. */
const LINE = `
local stats = redis.call('HMGET', KEYS[4], 'ratePerMinute', 'joined')
return {
  redis.call('GET', KEYS[1]) or '',
  redis.call('GET', KEYS[2]) or '',
  redis.call('GET', KEYS[3]) or '',
  stats[1] or '',
  stats[2] or '',
  redis.call('GET', KEYS[5]) or ''}`;

const SEAL = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('SET', KEYS[2], redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[4]))
return 1`;

const ASSIGN = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
for i = 1, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], i)
  redis.call('HSET', KEYS[2], i, ARGV[i])
end
redis.call('SET', KEYS[3], '1')
return #ARGV`;

/** Advances serving to ARGV[1] (never backwards) and gives each newly admitted buyer a deadline. */
const ADMIT = `
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
local target = tonumber(ARGV[1])
local deadline = ARGV[2]
local admitted = 0
for pos = serving + 1, target do
  local buyer = redis.call('HGET', KEYS[2], pos)
  if buyer then
    redis.call('HSET', KEYS[3], buyer, deadline)
    redis.call('ZADD', KEYS[4], deadline, buyer)
    admitted = admitted + 1
  end
end
if target > serving then redis.call('SET', KEYS[1], target) end
return admitted`;

const WAITLIST_JOIN = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {existing, 0} end
local n = redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. ARGV[2])
local pos = tonumber(redis.call('HINCRBY', KEYS[3], 'joined', 1))
redis.call('HSET', KEYS[1], ARGV[1], pos)
return {tostring(pos), 1}`;

/**
 * The controller goes to sleep only if nobody joined since it read the load:
 * a join either lands before this script (and the controller stays awake) or
 * after it (and the joiner sees the flag and wakes it).
 */
const MARK_ASLEEP = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > tonumber(redis.call('GET', KEYS[2]) or '0') then return 0 end
if redis.call('LLEN', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[4], '1', 'PX', ARGV[1])
return 1`;

/** At most one wake-up per gate period, and only while the controller is asleep; the sender clears the flag. */
const CLAIM_WAKE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wrJoin(...args: (string | number)[]): Result<[string, number, number, string, number, number?], Context>;
    wrStatus(...args: string[]): Result<[string, string, string, number, string, string, string], Context>;
    wrLine(...keys: string[]): Result<[string, string, string, string, string, string], Context>;
    wrSeal(...args: (string | number)[]): Result<number, Context>;
    wrAssign(...args: (string | number)[]): Result<number, Context>;
    wrAdmit(...args: (string | number)[]): Result<number, Context>;
    wrWaitlistJoin(...args: (string | number)[]): Result<[string, number], Context>;
    wrMarkAsleep(...args: (string | number)[]): Result<number, Context>;
    wrClaimWake(...args: (string | number)[]): Result<number, Context>;
  }
}

const defined = new WeakSet<Redis>();

export interface Place {
  /** Final position, or the provisional arrival index while in the pre-queue. */
  position: number;
  prequeue: boolean;
  created: boolean;
  /** The buyer's status right after joining (only from join). */
  status?: QueueStatus;
  /** This join claimed the controller's wake-up gate (join with `wakeGateMs`): the caller sends the signal. */
  wake?: boolean;
}

/** The per-event limits a join is held to; absent figures are not enforced. */
export interface JoinLimits {
  windowMs: number;
  perBuyer: number;
  perIp: number;
}

export interface BuyerStatus {
  position: number;
  servingPosition: number;
  ahead: number;
  status: QueueStatus;
  admissionDeadline?: number;
  /** The admission already started a checkout: no token to hand out. */
  admissionUsed?: boolean;
  estimatedWaitSeconds: number;
  /** The seal's seed when the status was read: it identifies this line, and changes if the line is ever rebuilt. */
  lineSeed?: string;
}

/**
 * What every buyer of a line shares, for answering waiting buyers from
 * memory (services/waiting-status.ts): it moves only when the controller
 * admits, the sale's status changes or someone joins.
 */
export interface LineState {
  servingPosition: number;
  /** Positions handed out so far. */
  queueLength: number;
  status: RoomStatus;
  ratePerMinute: number;
  /** Someone joined the waitlist: an offer can admit a buyer out of line order. */
  waitlistUsed: boolean;
  /** Empty until the line is sealed at the on-sale time. */
  seed: string;
}

/** A buyer in line at `position` who has not been admitted yet, as /queue/me shows them. */
export function waitingStatus(position: number, servingPosition: number, ratePerMinute: number): BuyerStatus {
  const ahead = Math.max(0, position - servingPosition - 1);
  const estimatedWaitSeconds = ratePerMinute > 0 ? Math.ceil((ahead + 1) / (ratePerMinute / 60)) : -1;
  return { position, servingPosition, ahead, estimatedWaitSeconds, status: 'waiting' };
}

export interface QueueSnapshot {
  queueLength: number;
  serving: number;
  pending: number;
  sealed: boolean;
  prequeueSize: number;
  waitlistLength: number;
  ratePerMinute: number;
  status: string;
}

export class WaitingRoom {
  constructor(private readonly redis: Redis) {
    if (!defined.has(redis)) {
      redis.defineCommand('wrJoin', { numberOfKeys: 16, lua: JOIN });
      redis.defineCommand('wrStatus', { numberOfKeys: 7, lua: STATUS });
      redis.defineCommand('wrLine', { numberOfKeys: 5, lua: LINE });
      redis.defineCommand('wrSeal', { numberOfKeys: 4, lua: SEAL });
      redis.defineCommand('wrAssign', { numberOfKeys: 3, lua: ASSIGN });
      redis.defineCommand('wrAdmit', { numberOfKeys: 4, lua: ADMIT });
      redis.defineCommand('wrWaitlistJoin', { numberOfKeys: 3, lua: WAITLIST_JOIN });
      redis.defineCommand('wrMarkAsleep', { numberOfKeys: 4, lua: MARK_ASLEEP });
      redis.defineCommand('wrClaimWake', { numberOfKeys: 2, lua: CLAIM_WAKE });
      defined.add(redis);
    }
  }

  /**
   * One place per buyer: joining again returns the same place. Rate limits,
   * the per-address and per-identity place caps and the join are one Redis
   * call. Null when the address holds its cap of places; throws RATE_LIMITED
   * over a rate limit, LIMIT_EXCEEDED when the verified person behind the
   * account already holds their places through other accounts.
   */
  async join(
    eventId: string,
    buyerId: string,
    opts: {
      beforeSale: boolean;
      ip: string;
      maxPlacesPerIp: number;
      limits?: JoinLimits;
      nowMs?: number;
      wakeGateMs?: number;
      identity?: { id: string; maxPlaces: number };
      /** Before the sale: wait behind the early arrivals of the front lane (verified people first, or a risky account). */
      back?: boolean;
      /** ... and, the identity provider scoring the account as risky, behind every other early arrival of the back lane too. */
      risky?: boolean;
    },
  ): Promise<Place | null> {
    const k = queueKeys(eventId);
    const l = opts.limits;
    const [place, outcome, sealedNow, status, retryAfterMs, wake] = await this.redis.wrJoin(
      k.places,
      k.prequeue,
      k.seq,
      k.seed,
      k.at,
      k.ipPlaces,
      eventRateKey(eventId, 'join-ip', opts.ip),
      eventRateKey(eventId, 'join-buyer', buyerId),
      k.deadlines,
      k.used,
      k.status,
      k.asleep,
      k.wakeGate,
      k.identityPlaces,
      k.prequeueBack,
      k.prequeueRisky,
      buyerId,
      opts.beforeSale ? 'pre' : 'main',
      newSeed(),
      opts.ip,
      opts.maxPlacesPerIp,
      l?.windowMs ?? 0,
      opts.nowMs ?? Date.now(),
      l?.perBuyer ?? 0,
      l?.perIp ?? 0,
      opts.wakeGateMs ?? 0,
      opts.identity?.id ?? '',
      opts.identity?.maxPlaces ?? 0,
      opts.back || opts.risky ? '1' : '0',
      opts.risky ? '1' : '0',
    );
    if (outcome === -2) throw rateLimited('join-buyer', { limit: l!.perBuyer, windowMs: l!.windowMs }, retryAfterMs);
    if (outcome === -3) {
      throw rateLimited('join-ip', { limit: l!.perIp, windowMs: l!.windowMs }, retryAfterMs, 'too many joins from this address; slow down');
    }
    if (outcome === -4) {
      throw new DomainError('LIMIT_EXCEEDED', 'the person behind this account already holds their places in this line', {
        reason: 'places_per_identity',
        maxPlacesPerIdentity: opts.identity!.maxPlaces,
      });
    }
    if (outcome === -1) return null;
    if (sealedNow === 1) await this.assignPrequeue(eventId);
    return { ...parsePlace(place, outcome === 1), status: status as QueueStatus, ...(wake === 1 && { wake: true }) };
  }

  /** Seals the pre-queue at the on-sale time; idempotent. Returns the seed. */
  async seal(eventId: string): Promise<string> {
    const k = queueKeys(eventId);
    await this.redis.wrSeal(k.prequeue, k.seq, k.seed, k.prequeueBack, newSeed());
    await this.assignPrequeue(eventId);
    return (await this.redis.get(k.seed))!;
  }

  /**
   * Gives the sealed pre-queue its shuffled positions 1..N; idempotent and
   * deterministic from the seed. The back lane (early arrivals without a
   * verified identity when the event puts verified people first, and risky
   * accounts) is shuffled with the seed's ":back" stream and placed after the
   * front lane, its risky accounts last in the order that shuffle gave them.
   */
  async assignPrequeue(eventId: string): Promise<{ seed: string; order: string[] }> {
    const k = queueKeys(eventId);
    const [seed, arrivals, back, risky] = await Promise.all([
      this.redis.get(k.seed),
      this.redis.lrange(k.prequeue, 0, -1),
      this.redis.lrange(k.prequeueBack, 0, -1),
      this.redis.smembers(k.prequeueRisky),
    ]);
    if (!seed) throw new Error(`queue of ${eventId} is not sealed`);
    const last = new Set(risky);
    const behind = shuffle(back, `${seed}:back`);
    const order = back.length
      ? [...shuffle(arrivals, seed), ...behind.filter((b) => !last.has(b)), ...behind.filter((b) => last.has(b))]
      : shuffle(arrivals, seed);
    await this.redis.wrAssign(k.places, k.at, k.assigned, ...order);
    return { seed, order };
  }

  /** Where the buyer stands, in one Redis call. */
  async status(eventId: string, buyerId: string, nowMs = Date.now()): Promise<BuyerStatus | null> {
    const k = queueKeys(eventId);
    const [placeRaw, serving, deadlineRaw, used, status, rate, seed] = await this.redis.wrStatus(
      k.places,
      k.serving,
      k.deadlines,
      k.used,
      k.status,
      k.stats,
      k.seed,
      buyerId,
    );
    const place = placeRaw || null;
    const deadline = deadlineRaw || null;
    // A waitlist offer admits a buyer who may hold no queue place.
    if (!place && !deadline) return null;
    const p = place ? parsePlace(place, false) : { position: 0, prequeue: false, created: false };
    const base = { ...waitingStatus(p.position, Number(serving || 0), Number(rate || 0)), ...(seed && { lineSeed: seed }) };
    if (p.prequeue) return { ...base, ahead: p.position - 1, status: 'prequeue' };
    if (deadline) {
      const d = Number(deadline);
      if (used === 1 || d > nowMs) {
        return { ...base, ahead: 0, estimatedWaitSeconds: 0, status: 'admitted', admissionDeadline: d, admissionUsed: used === 1 };
      }
      return { ...base, ahead: 0, estimatedWaitSeconds: 0, status: 'expired', admissionDeadline: d };
    }
    // A closed sale admits nobody else: to a buyer still in line that reads as sold out.
    if (status === 'sold_out' || status === 'closed') return { ...base, status: 'sold_out' };
    return base;
  }

  /** The line's shared state, in one call. */
  async lineState(eventId: string): Promise<LineState> {
    const k = queueKeys(eventId);
    const [serving, seq, status, rate, joined, seed] = await this.redis.wrLine(k.serving, k.seq, k.status, k.stats, k.seed);
    return {
      servingPosition: Number(serving || 0),
      queueLength: Number(seq || 0),
      status: (status || 'open') as RoomStatus,
      ratePerMinute: Number(rate || 0),
      waitlistUsed: Number(joined || 0) > 0,
      seed,
    };
  }

  /** The admission starts a checkout: it no longer counts as pending, and cannot be used again. */
  async markUsed(eventId: string, buyerId: string): Promise<boolean> {
    const k = queueKeys(eventId);
    const [[, added]] = (await this.redis.multi().sadd(k.used, buyerId).zrem(k.pending, buyerId).exec()) as [[null, number], unknown];
    return added === 1;
  }

  async isUsed(eventId: string, buyerId: string): Promise<boolean> {
    return (await this.redis.sismember(queueKeys(eventId).used, buyerId)) === 1;
  }

  async progress(eventId: string): Promise<{ servingPosition: number; queueLength: number; status: string }> {
    const k = queueKeys(eventId);
    const [serving, seq, status, seed, pre, back] = await this.redis
      .multi()
      .get(k.serving)
      .get(k.seq)
      .get(k.status)
      .exists(k.seed)
      .llen(k.prequeue)
      .llen(k.prequeueBack)
      .exec()
      .then((r) => r!.map(([, v]) => v) as [string | null, string | null, string | null, number, number, number]);
    const queueLength = seed ? Number(seq ?? 0) : pre + back;
    return { servingPosition: Number(serving ?? 0), queueLength, status: seed ? (status ?? 'open') : 'prequeue' };
  }

  /** What the admission workflow needs each tick; drops admissions whose window passed (the slot is reclaimed). */
  async snapshot(eventId: string, nowMs: number): Promise<QueueSnapshot> {
    const k = queueKeys(eventId);
    const r = await this.redis
      .multi()
      .zremrangebyscore(k.pending, '-inf', nowMs)
      .zcard(k.pending)
      .get(k.seq)
      .get(k.serving)
      .exists(k.seed)
      .llen(k.prequeue)
      .llen(k.waitlist)
      .hget(k.stats, 'ratePerMinute')
      .get(k.status)
      .exec();
    const v = r!.map(([, x]) => x);
    return {
      pending: Number(v[1]),
      queueLength: Number(v[2] ?? 0),
      serving: Number(v[3] ?? 0),
      sealed: v[4] === 1,
      prequeueSize: Number(v[5]),
      waitlistLength: Number(v[6]),
      ratePerMinute: Number(v[7] ?? 0),
      status: (v[8] as string | null) ?? 'open',
    };
  }

  /** Moves serving forward to `to`; returns how many buyers were admitted. */
  async admitThrough(eventId: string, to: number, deadlineMs: number, ratePerMinute: number): Promise<number> {
    const k = queueKeys(eventId);
    const admitted = await this.redis.wrAdmit(k.serving, k.at, k.deadlines, k.pending, to, deadlineMs);
    await this.redis.hset(k.stats, 'ratePerMinute', ratePerMinute, 'updatedAt', Date.now());
    return admitted;
  }

  async setStatus(eventId: string, status: RoomStatus): Promise<void> {
    const k = queueKeys(eventId);
    if (status === 'closed') await this.redis.multi().set(k.status, status).del(k.asleep).exec();
    else await this.redis.set(k.status, status);
  }

  /**
   * The admission controller is about to sleep for `ttlMs`: records it, unless
   * someone is waiting in the queue or on the waitlist (then it must not).
   */
  async markAsleep(eventId: string, ttlMs: number): Promise<boolean> {
    const k = queueKeys(eventId);
    return (await this.redis.wrMarkAsleep(k.seq, k.serving, k.waitlist, k.asleep, Math.max(1, Math.round(ttlMs)))) === 1;
  }

  /**
   * True for exactly one caller per `gateMs` while the controller is asleep:
   * that caller sends the wake-up. Everyone else (awake controller, or a
   * wake-up already sent) is told not to.
   */
  async claimWake(eventId: string, gateMs: number): Promise<boolean> {
    const k = queueKeys(eventId);
    return (await this.redis.wrClaimWake(k.asleep, k.wakeGate, gateMs)) === 1;
  }

  /** A wake-up could not be sent: the next joiner after the gate tries again. */
  async rearmWake(eventId: string, ttlMs: number): Promise<void> {
    await this.redis.set(queueKeys(eventId).asleep, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
  }

  async joinWaitlist(eventId: string, buyerId: string, quantity: number): Promise<{ position: number; created: boolean }> {
    const k = queueKeys(eventId);
    const [pos, created] = await this.redis.wrWaitlistJoin(k.waitlistPlaces, k.waitlist, k.stats, buyerId, quantity);
    return { position: Number(pos), created: created === 1 };
  }

  /**
   * Offers returned seats to the head of the waitlist, in order, while the
   * head's quantity fits in `seats`. Each offer is an admission valid until
   * `deadlineMs`. Returns the buyers offered.
   */
  async offerWaitlist(eventId: string, seats: number, deadlineMs: number): Promise<{ buyerId: string; quantity: number }[]> {
    const k = queueKeys(eventId);
    const offered: { buyerId: string; quantity: number }[] = [];
    let left = seats;
    for (;;) {
      const head = await this.redis.lindex(k.waitlist, 0);
      if (!head) break;
      const i = head.lastIndexOf(':');
      const buyerId = head.slice(0, i);
      const quantity = Number(head.slice(i + 1));
      if (quantity > left) break;
      // Only the caller that removes the head makes the offer.
      if ((await this.redis.lrem(k.waitlist, 1, head)) !== 1) continue;
      await this.redis.multi().hset(k.deadlines, buyerId, deadlineMs).zadd(k.pending, deadlineMs, buyerId).srem(k.used, buyerId).exec();
      offered.push({ buyerId, quantity });
      left -= quantity;
    }
    return offered;
  }
}

function parsePlace(place: string, created: boolean): Place {
  if (place.startsWith('p') || place.startsWith('b')) return { position: Number(place.slice(1)), prequeue: true, created };
  return { position: Number(place), prequeue: false, created };
}
