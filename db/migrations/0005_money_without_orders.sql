-- Money is never kept without an order.
--
-- payments.refund_requested_at: when a refund of this charge was asked for (by the
-- checkout's compensation or by a late success webhook). A charge with it set and
-- still 'succeeded' is a refund in progress: support staff and the metric see it.
--
-- test_provider_intents: the development payment provider's own ledger of what it
-- charged, written only by the test-card provider adapter (payments/test-cards.ts).
-- stripe-mock keeps no state, so this table plays Stripe's side of the books: the
-- reconciliation compares it with payments and orders as it would compare Stripe's
-- PaymentIntents in production.

ALTER TABLE payments ADD COLUMN refund_requested_at timestamptz;
CREATE INDEX payments_refund_pending ON payments (refund_requested_at) WHERE status <> 'refunded' AND refund_requested_at IS NOT NULL;
CREATE INDEX payments_by_provider_ref ON payments (provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX payments_pending ON payments (updated_at) WHERE status = 'pending';

CREATE TABLE test_provider_intents (
  id               text PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  amount_cents     integer NOT NULL CHECK (amount_cents >= 0),
  currency         text NOT NULL,
  payment_method   text NOT NULL,
  status           text NOT NULL CHECK (status IN ('requires_action', 'succeeded', 'canceled', 'requires_payment_method')),
  client_secret    text NOT NULL,
  metadata         jsonb NOT NULL,
  refund_id        text UNIQUE,
  refunded_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (refund_id IS NULL OR status = 'succeeded')
);
CREATE INDEX test_provider_intents_by_event ON test_provider_intents ((metadata ->> 'eventId'), created_at);
