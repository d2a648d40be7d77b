-- Core schema: events and their seat maps, holds, orders, payments and the
-- notification outbox. The seats table itself enforces that a seat is held by at
-- most one hold and sold at most once, whatever the application does.

CREATE SEQUENCE seat_version_seq;

CREATE TABLE buyers (
  id          text PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  email       text NOT NULL CHECK (email LIKE '%_@_%'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  id                    text PRIMARY KEY,
  name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  state                 text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'paused', 'closed')),
  on_sale_at            timestamptz NOT NULL,
  hold_seconds          integer NOT NULL CHECK (hold_seconds BETWEEN 30 AND 3600),
  max_seats_per_buyer   integer NOT NULL CHECK (max_seats_per_buyer BETWEEN 1 AND 50),
  waiting_room_enabled  boolean NOT NULL,
  max_active_checkouts  integer NOT NULL CHECK (max_active_checkouts > 0),
  admit_per_minute      integer NOT NULL CHECK (admit_per_minute > 0),
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sections (
  event_id       text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  id             text NOT NULL,
  name           text NOT NULL,
  rows           integer NOT NULL CHECK (rows BETWEEN 1 AND 1000),
  seats_per_row  integer NOT NULL CHECK (seats_per_row BETWEEN 1 AND 1000),
  price_cents    integer NOT NULL CHECK (price_cents >= 0),
  rank           integer NOT NULL,
  PRIMARY KEY (event_id, id)
);

CREATE TABLE seats (
  event_id         text NOT NULL,
  seat_id          text NOT NULL,
  section_id       text NOT NULL,
  row_no           integer NOT NULL,
  seat_no          integer NOT NULL,
  price_cents      integer NOT NULL CHECK (price_cents >= 0),
  status           text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'held', 'sold')),
  hold_id          text,
  holder           text,
  hold_expires_at  timestamptz,
  order_id         text,
  version          bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, seat_id),
  UNIQUE (event_id, section_id, row_no, seat_no),
  FOREIGN KEY (event_id, section_id) REFERENCES sections (event_id, id) ON DELETE CASCADE,
  CONSTRAINT seat_state_consistent CHECK (
    (status = 'available' AND hold_id IS NULL AND holder IS NULL AND hold_expires_at IS NULL AND order_id IS NULL)
    OR (status = 'held' AND hold_id IS NOT NULL AND holder IS NOT NULL AND hold_expires_at IS NOT NULL AND order_id IS NULL)
    OR (status = 'sold' AND hold_id IS NOT NULL AND holder IS NOT NULL AND order_id IS NOT NULL)
  )
);
CREATE INDEX seats_by_hold ON seats (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX seats_unsold ON seats (event_id, section_id, row_no, seat_no) WHERE status <> 'sold';

CREATE TABLE holds (
  id            text PRIMARY KEY,
  event_id      text NOT NULL REFERENCES events (id),
  buyer_id      text NOT NULL,
  checkout_id   text NOT NULL,
  seat_ids      text[] NOT NULL CHECK (cardinality(seat_ids) > 0),
  amount_cents  integer NOT NULL CHECK (amount_cents >= 0),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'purchased', 'released', 'expired')),
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz
);
CREATE INDEX holds_active_by_event ON holds (event_id, expires_at) WHERE status = 'active';
CREATE INDEX holds_by_buyer ON holds (event_id, buyer_id);

CREATE TABLE payments (
  id               text PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  checkout_id      text NOT NULL,
  hold_id          text NOT NULL REFERENCES holds (id),
  event_id         text NOT NULL,
  buyer_id         text NOT NULL,
  provider         text NOT NULL,
  provider_ref     text,
  amount_cents     integer NOT NULL CHECK (amount_cents >= 0),
  currency         text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'refunded')),
  decline_code     text,
  refund_ref       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- At most one live charge per hold: a second successful charge cannot be recorded.
CREATE UNIQUE INDEX payments_one_success_per_hold ON payments (hold_id) WHERE status = 'succeeded';

CREATE TABLE orders (
  id            text PRIMARY KEY,
  event_id      text NOT NULL REFERENCES events (id),
  buyer_id      text NOT NULL,
  hold_id       text NOT NULL UNIQUE REFERENCES holds (id),
  payment_id    text NOT NULL UNIQUE REFERENCES payments (id),
  status        text NOT NULL CHECK (status IN ('confirmed')),
  seat_ids      text[] NOT NULL,
  amount_cents  integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_buyer ON orders (event_id, buyer_id);

-- A seat can belong to one order only, ever: the primary key is the guarantee.
CREATE TABLE order_seats (
  event_id  text NOT NULL,
  seat_id   text NOT NULL,
  order_id  text NOT NULL REFERENCES orders (id),
  PRIMARY KEY (event_id, seat_id),
  FOREIGN KEY (event_id, seat_id) REFERENCES seats (event_id, seat_id)
);

CREATE TABLE notifications (
  id               bigserial PRIMARY KEY,
  dedupe_key       text NOT NULL UNIQUE,
  buyer_id         text NOT NULL,
  recipient        text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('hold_reminder', 'hold_expired', 'hold_released', 'order_confirmed',
                                                 'payment_refunded', 'waitlist_offer')),
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';

CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('onsale_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
  FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
