import type { ActivityDeps } from './deps';
import { createNotifyActivities } from './notify';
import { createOrderRefundActivities } from './order-refund';
import { createPaymentActivities } from './payments';
import { createQueueActivities } from './queue';
import { createSeatActivities } from './seats';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSeatActivities(deps),
    ...createPaymentActivities(deps),
    ...createNotifyActivities(deps),
    ...createQueueActivities(deps),
    ...createOrderRefundActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
