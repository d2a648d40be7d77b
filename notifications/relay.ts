/**
 * Delivers the notification outbox by SMTP. Rows are claimed with SKIP LOCKED,
 * so any number of relays can run; a failed send is retried with back-off and
 * given up after MAX_ATTEMPTS. Postgres NOTIFY wakes the relay at once.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Pool, PoolClient } from 'pg';
import { claimDueNotifications, markNotificationFailed, markNotificationSent, type OutboxMessage } from '../db/queries/notifications';
import type { Logger } from '../platform/logger';
import { renderMail } from './templates';

const MAX_ATTEMPTS = 8;
const BATCH = 25;

export function createMailer(smtpUrl: string): Transporter {
  return nodemailer.createTransport(smtpUrl, { pool: true, maxConnections: 4 } as never);
}

export interface OutboxRelay {
  stop(): Promise<void>;
  /** Delivers everything due now; returns how many messages were attempted. */
  drain(): Promise<number>;
}

export function startOutboxRelay(opts: { pool: Pool; mailer: Transporter; from: string; logger: Logger; pollMs?: number }): OutboxRelay {
  const { pool, mailer, from, logger } = opts;
  let stopped = false;
  let wake: (() => void) | null = null;
  let listener: PoolClient | null = null;

  async function deliver(m: OutboxMessage): Promise<void> {
    const mail = renderMail(m.kind, m.payload);
    try {
      await mailer.sendMail({
        from,
        to: m.recipient,
        subject: mail.subject,
        text: mail.text,
        headers: { 'X-Onsale-Notification': m.dedupeKey },
      });
      await markNotificationSent(pool, m.id);
    } catch (err) {
      const final = m.attempts >= MAX_ATTEMPTS;
      logger.warn({ err, id: m.id, attempts: m.attempts, final }, 'notification delivery failed');
      await markNotificationFailed(pool, m.id, (err as Error).message, final);
    }
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await claimDueNotifications(pool, BATCH);
      if (!batch.length) return total;
      await Promise.all(batch.map(deliver));
      total += batch.length;
    }
  }

  async function listen(): Promise<void> {
    try {
      listener = await pool.connect();
      listener.on('notification', () => wake?.());
      listener.on('error', () => {
        listener?.release(true);
        listener = null;
      });
      await listener.query('LISTEN onsale_outbox');
    } catch (err) {
      logger.warn({ err }, 'outbox LISTEN unavailable; polling only');
    }
  }

  const loop = (async () => {
    await listen();
    while (!stopped) {
      try {
        await drain();
      } catch (err) {
        logger.warn({ err }, 'outbox relay pass failed');
      }
      if (!listener && !stopped) await listen();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.pollMs ?? 2000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();

  return {
    drain,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      listener?.release();
    },
  };
}
