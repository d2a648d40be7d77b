import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from '../platform/logger';
import type { SeatCache } from '../services/seat-cache';
import type { SeatClaims } from '../services/seat-claims';
import type { WaitingRoom } from '../services/waiting-room';
import type { PaymentProvider } from '../payments/provider';

/** What activities share: connections and settings, created once per worker process. */
export interface ActivityDeps {
  pool: Pool;
  redis: Redis;
  seatCache: SeatCache;
  seatClaims: SeatClaims;
  waitingRoom: WaitingRoom;
  payments: PaymentProvider;
  logger: Logger;
  settings: {
    holdPaymentGraceSeconds: number;
    currency: string;
  };
}
