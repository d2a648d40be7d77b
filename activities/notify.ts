import { enqueueNotification } from '../db/queries/notifications';
import type { NotificationKind } from '../domain/notifications';
import type { ActivityDeps } from './deps';

export function createNotifyActivities(deps: ActivityDeps) {
  return {
    /** Queues an e-mail in the outbox; the outbox relay delivers it. Idempotent by dedupe key. */
    async notifyBuyer(input: {
      dedupeKey: string;
      buyerId: string;
      kind: NotificationKind;
      payload: Record<string, unknown>;
    }): Promise<void> {
      await enqueueNotification(deps.pool, input);
    },
  };
}
