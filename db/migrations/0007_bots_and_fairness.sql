-- Defences against bots, per event (domain/fairness.ts FAIRNESS_DEFAULTS holds the same defaults).
--
-- Proof of work that rises with demand: pow_difficulty stays the floor (0: a
-- quiet sale costs a buyer nothing); once more than pow_demand_queue buyers
-- are in line, joining costs pow_demand_difficulty bits, one more for every
-- doubling of the line, up to pow_max_difficulty.
-- The identity provider's signals: one account per verified person holds at
-- most max_places_per_identity places; a buyer token whose `risk` claim is
-- above risk_extra_pow_above pays extra proof of work, above risk_refuse_above
-- is refused.
-- The per-card limit: a card (the provider's fingerprint) pays for at most
-- max_seats_per_buyer seats of the event across every account that uses it.

ALTER TABLE events
  ADD COLUMN pow_demand_queue integer NOT NULL DEFAULT 100 CHECK (pow_demand_queue BETWEEN 1 AND 100000000),
  ADD COLUMN pow_demand_difficulty integer NOT NULL DEFAULT 12 CHECK (pow_demand_difficulty BETWEEN 0 AND 28),
  ADD COLUMN pow_max_difficulty integer NOT NULL DEFAULT 22 CHECK (pow_max_difficulty BETWEEN 0 AND 28),
  ADD COLUMN max_places_per_identity integer NOT NULL DEFAULT 1 CHECK (max_places_per_identity BETWEEN 1 AND 1000),
  ADD COLUMN require_verified_identity boolean NOT NULL DEFAULT false,
  ADD COLUMN risk_extra_pow_above real NOT NULL DEFAULT 0.5 CHECK (risk_extra_pow_above BETWEEN 0 AND 1),
  ADD COLUMN risk_refuse_above real NOT NULL DEFAULT 0.9 CHECK (risk_refuse_above BETWEEN 0 AND 1),
  ADD COLUMN card_limit boolean NOT NULL DEFAULT true;

-- The card each hold is being paid with; a retry with another card replaces it.
CREATE TABLE card_uses (
  hold_id      text PRIMARY KEY REFERENCES holds (id),
  event_id     text NOT NULL REFERENCES events (id),
  fingerprint  text NOT NULL,
  seat_count   integer NOT NULL CHECK (seat_count > 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_uses_by_card ON card_uses (event_id, fingerprint);
