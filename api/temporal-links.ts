/** Links from the product to the Temporal UI, for support staff following one buyer's checkout. */
import { admissionWorkflowId, checkoutWorkflowId } from '../domain/ids';
import type { Config } from '../platform/config';

export interface TemporalLinks {
  workflow(workflowId: string): string;
  checkout(eventId: string, buyerId: string): string;
  admission(eventId: string): string;
  /** Every checkout of an event, through the EventId search attribute. */
  checkoutsOf(eventId: string): string;
}

export function temporalLinks(config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>): TemporalLinks {
  const base = `${config.TEMPORAL_UI_URL.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows`;
  const workflow = (id: string) => `${base}/${encodeURIComponent(id)}`;
  return {
    workflow,
    checkout: (eventId, buyerId) => workflow(checkoutWorkflowId(eventId, buyerId)),
    admission: (eventId) => workflow(admissionWorkflowId(eventId)),
    checkoutsOf: (eventId) => `${base}?query=${encodeURIComponent(`WorkflowType="checkout" AND EventId="${eventId.replace(/"/g, '')}"`)}`,
  };
}
