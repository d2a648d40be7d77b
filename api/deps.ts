import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type Stripe from 'stripe';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { BuyerTokens } from '../platform/buyer-tokens';
import type { SeatCache } from '../platform/seat-cache';

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
