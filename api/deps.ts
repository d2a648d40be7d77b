import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import { createPool } from '../db/pool';
import { createPaymentProvider } from '../payments';
import { createStripeClient } from '../payments/stripe';
import { type BuyerTokens, createBuyerTokens } from '../platform/buyer-tokens';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import { SeatCache } from '../platform/seat-cache';
import { connectClient } from '../platform/temporal';

export interface ApiDeps {
  config: Config;
  pool: Pool;
  redis: Redis;
  seatCache: SeatCache;
  temporal: Client;
  buyerTokens: BuyerTokens;
  stripe: Stripe;
  logger: Logger;
}

export type Buyer = import('../platform/buyer-tokens').Buyer;

export interface AppEnv {
  Variables: {
    deps: ApiDeps;
    buyer: Buyer;
    isAdmin: boolean;
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
  const redis = createRedis(config.REDIS_URL, opts.name ?? 'onsale-api');
  createPaymentProvider(config); // validates the payment configuration at start-up
  return {
    config,
    logger,
    pool,
    redis,
    seatCache: new SeatCache(redis, pool),
    temporal: await connectClient(config),
    buyerTokens: createBuyerTokens({
      mode: config.ONSALE_MODE,
      secret: config.BUYER_TOKEN_SECRET,
      issuer: config.BUYER_TOKEN_ISSUER,
      jwksUrl: config.BUYER_JWKS_URL,
    }),
    stripe: createStripeClient(config.STRIPE_SECRET_KEY, config.STRIPE_API_URL),
  };
}
