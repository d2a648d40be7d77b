/** What the buyer is told about, by e-mail through the outbox. The database checks the same list. */
export type NotificationKind =
  'hold_reminder' | 'hold_expired' | 'hold_released' | 'order_confirmed' | 'payment_refunded' | 'waitlist_offer' | 'order_refunded';
