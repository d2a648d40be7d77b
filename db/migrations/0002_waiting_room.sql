-- Waiting room settings per event, and the audit record of each pre-queue shuffle.

ALTER TABLE events
  ADD COLUMN admission_window_seconds integer NOT NULL DEFAULT 120 CHECK (admission_window_seconds BETWEEN 10 AND 3600),
  ADD COLUMN pow_difficulty integer NOT NULL DEFAULT 0 CHECK (pow_difficulty BETWEEN 0 AND 28),
  ADD COLUMN max_places_per_ip integer NOT NULL DEFAULT 20 CHECK (max_places_per_ip BETWEEN 1 AND 100000);

-- The seed and the size of the pre-queue at the on-sale time: with the list of
-- pre-queue arrivals, anyone can recompute the shuffled order.
CREATE TABLE queue_shuffles (
  event_id        text PRIMARY KEY REFERENCES events (id),
  seed            text NOT NULL,
  prequeue_size   integer NOT NULL,
  order_digest    text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
  'hold_reminder', 'hold_expired', 'hold_released', 'order_confirmed', 'payment_refunded', 'waitlist_offer'));
