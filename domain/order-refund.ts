/** An administrator's refund of a whole order, shared by the workflow and the API that starts it. */

export interface OrderRefundInput {
  orderId: string;
  /** Who asked, as recorded in admin_actions (for the workflow's summary and history). */
  actor: string;
}

export interface OrderRefundResult {
  orderId: string;
  status: 'refunded';
  eventId: string;
  seatIds: string[];
  /** Waitlisted buyers offered the returned seats before anyone else could take them. */
  waitlistOffers: number;
}

/** One refund per order, ever: asking again joins the running refund or finds it done. */
export const orderRefundWorkflowId = (orderId: string) => `order-refund:${orderId}`;
