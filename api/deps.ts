import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { createPool } from '../db/pool';
import { createPaymentProvider, type PaymentProvider } from '../payments';
import { AdmissionTokens } from '../services/admission-tokens';
import { LocalRateLimits, RateLimiter } from '../services/rate-limit';
import { WaitingRoom } from '../services/waiting-room';
import { WaitingStatus } from '../services/waiting-status';
import { AdmissionControl } from './admission-control';
import { EventsView } from './events-view';
import { SeatFanout } from './seat-fanout';
import { SeatReads } from './seat-reads';
import { type BuyerTokens, createBuyerTokens } from '../services/buyer-tokens';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import { SeatCache } from '../services/seat-cache';
import { SeatClaims } from '../services/seat-claims';
import { SeatHolds } from '../services/seat-holds';
import { KnownBuyers } from './known-buyers';
import { connectClient } from '../platform/temporal';

export interface ApiDeps {
  config: Config;
  pool: Pool;
  redis: Redis;
  seatCache: SeatCache;
  seatClaims: SeatClaims;
  temporal: Client;
  buyerTokens: BuyerTokens;
  logger: Logger;
}

export type Buyer = import('../services/buyer-tokens').Buyer;

/**
 * Everything a route may use: the connections and the services built on them,
 * created once per process. Routes reach it one way only, as `c.var.services`.
 */
export interface Services extends ApiDeps {
  events: EventsView;
  admissions: AdmissionTokens;
  room: WaitingRoom;
  /** /queue/me: waiting buyers answered from this process's memory, everyone else from Redis. */
  waiting: WaitingStatus;
  limiter: RateLimiter;
  /** Status-poll limits, counted where the poll is answered. */
  statusPolls: LocalRateLimits;
  control: AdmissionControl;
  fanout: SeatFanout;
  seatReads: SeatReads;
  payments: PaymentProvider;
  knownBuyers: KnownBuyers;
  /** Reserves a winning claim's seats in Postgres (and gives them back when its checkout cannot start). */
  seatHolds: SeatHolds;
}

export interface AppEnv {
  Variables: {
    services: Services;
    buyer: Buyer;
    isAdmin: boolean;
    /** X-Request-Id, taken from the caller when well-formed, otherwise generated; echoed in the response and logs. */
    requestId: string;
    /** What an admin handler adds to its admin_actions record. */
    auditDetails: Record<string, unknown> | undefined;
  };
}

/** The services over the API's connections. */
export function buildServices(deps: ApiDeps): Services {
  const room = new WaitingRoom(deps.redis);
  return {
    ...deps,
    events: new EventsView(deps.pool, deps.seatCache),
    admissions: new AdmissionTokens(deps.config.ADMISSION_TOKEN_SECRET, deps.redis),
    room,
    waiting: new WaitingStatus(room),
    limiter: new RateLimiter(deps.redis),
    statusPolls: new LocalRateLimits(),
    control: new AdmissionControl(deps.temporal, deps.pool, deps.config.TEMPORAL_TASK_QUEUE, room, deps.logger),
    fanout: new SeatFanout(deps.redis, deps.logger),
    seatReads: new SeatReads(deps.seatCache),
    payments: createPaymentProvider(deps.config, deps.pool),
    knownBuyers: new KnownBuyers(deps.pool),
    seatHolds: new SeatHolds({ ...deps, graceSeconds: deps.config.HOLD_PAYMENT_GRACE_SECONDS }),
  };
}

/**
 * Idle keep-alive connections outlive a load balancer's (commonly 60 s), so
 * the API never closes a socket the balancer is about to reuse: that race
 * surfaces to clients as ECONNRESET.
 */
export function keepConnectionsAlive(server: unknown): void {
  const http = server as { keepAliveTimeout?: number; headersTimeout?: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
}

/** The API's connections, from validated configuration. */
export async function buildApiDeps(config: Config, logger: Logger, opts: { poolSize?: number; name?: string } = {}): Promise<ApiDeps> {
  const pool = createPool(config.DATABASE_URL, { max: opts.poolSize ?? config.DATABASE_POOL_SIZE });
  const redis = createRedis(config.REDIS_URL, opts.name ?? 'onsale-api', config.REDIS_CLUSTER_NODES);
  createPaymentProvider(config, pool); // validates the payment configuration at start-up
  return {
    config,
    logger,
    pool,
    redis,
    seatCache: new SeatCache(redis, pool, logger),
    seatClaims: new SeatClaims(redis, pool, logger),
    temporal: await connectClient(config),
    buyerTokens: createBuyerTokens({
      mode: config.ONSALE_MODE,
      secret: config.BUYER_TOKEN_SECRET,
      issuer: config.BUYER_TOKEN_ISSUER,
      jwksUrl: config.BUYER_JWKS_URL,
    }),
  };
}
