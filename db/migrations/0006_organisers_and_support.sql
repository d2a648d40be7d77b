-- What organisers and support staff need: where and when the show is, refunded
-- orders whose seats went back on sale, and a record of every admin action.

ALTER TABLE events
  ADD COLUMN venue text CHECK (venue IS NULL OR length(venue) BETWEEN 1 AND 200),
  ADD COLUMN starts_at timestamptz,
  ADD COLUMN description text CHECK (description IS NULL OR length(description) <= 5000);
-- The admin list pages through events newest first.
CREATE INDEX events_by_created ON events (created_at DESC, id DESC);

-- A refunded order keeps its row (the buyer's record and the payment's link);
-- its seats leave order_seats so that they can be sold again.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('confirmed', 'refunded'));
ALTER TABLE orders ADD COLUMN refunded_at timestamptz;
CREATE INDEX orders_by_event_created ON orders (event_id, created_at DESC, id DESC);
CREATE INDEX buyers_by_email ON buyers (lower(email));

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
  'hold_reminder', 'hold_expired', 'hold_released', 'order_confirmed', 'payment_refunded', 'waitlist_offer',
  'order_refunded'));

-- Who did what, when. The actor is a hash prefix of the admin token (never the
-- token) plus the name the console or script sent in X-Admin-Actor.
CREATE TABLE admin_actions (
  id           bigserial PRIMARY KEY,
  actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  action       text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  event_id     text,
  order_id     text,
  status       integer NOT NULL,
  request_id   text,
  details      jsonb NOT NULL DEFAULT '{}',
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_by_event ON admin_actions (event_id, at DESC) WHERE event_id IS NOT NULL;
CREATE INDEX admin_actions_by_order ON admin_actions (order_id, at DESC) WHERE order_id IS NOT NULL;
