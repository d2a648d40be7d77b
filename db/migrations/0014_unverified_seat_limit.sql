-- Fewer seats for unverified and risky accounts, per event.
--
-- A farm's accounts that reach the front of the line together with the fans
-- (shuffled just behind the verified early arrivals, or joining just after
-- the opening) each took max_seats_per_buyer seats the moment they were
-- admitted. An account may now hold and buy at most unverified_seat_limit
-- seats (default 2; max_seats_per_buyer when that is smaller) when no
-- verified person stands behind it on a platform whose identity provider
-- verifies people (BUYER_TOKEN_VERIFIES_PEOPLE), or when the provider scores
-- it as risky (its risk claim above risk_extra_pow_above). Where the
-- provider neither verifies nor scores anyone, nobody is limited by it.
--
-- The API refuses a larger request before anything is claimed and passes the
-- allowance to reserve_hold(), which counts it the way it counts
-- max_seats_per_buyer: against the seats the buyer already bought
-- (reserve_terms) and, for a verified person, against every account's seats.
-- A caller passing ten arguments (a process not yet restarted on this
-- version) keeps working, with the event's limit alone. The functions keep
-- one generic plan per statement (0011).

ALTER TABLE events ADD COLUMN unverified_seat_limit integer NOT NULL DEFAULT 2 CHECK (unverified_seat_limit BETWEEN 1 AND 50);

DROP FUNCTION reserve_hold(text, text, text, text, text[], integer, text, integer, timestamptz, text);
DROP FUNCTION reserve_terms(text, text, integer);

CREATE FUNCTION reserve_terms(p_event_id text, p_buyer_id text, p_wanted integer, p_max_seats integer DEFAULT NULL,
  OUT o_refusal text, OUT o_hold_seconds integer, OUT o_detail jsonb)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_state text;
  v_on_sale boolean;
  v_max integer;
  v_bought integer;
  v_holding text;
BEGIN
  SELECT e.state, e.on_sale_at <= now(), e.hold_seconds, LEAST(e.max_seats_per_buyer, COALESCE(p_max_seats, e.max_seats_per_buyer))
    INTO v_state, v_on_sale, o_hold_seconds, v_max
    FROM events e WHERE e.id = p_event_id;
  IF NOT FOUND THEN
    o_refusal := 'event_not_found';
    RETURN;
  ELSIF v_state <> 'open' OR NOT v_on_sale THEN
    o_refusal := 'not_on_sale';
    o_detail := jsonb_build_object('state', v_state);
    RETURN;
  END IF;
  SELECT h.id INTO v_holding
    FROM holds h
   WHERE h.event_id = p_event_id AND h.buyer_id = p_buyer_id AND h.status = 'active' AND h.expires_at > now()
   LIMIT 1;
  IF v_holding IS NOT NULL THEN
    o_refusal := 'checkout_in_progress';
    o_detail := jsonb_build_object('holdId', v_holding);
    RETURN;
  END IF;
  SELECT COALESCE(sum(cardinality(o.seat_ids)), 0)::int INTO v_bought
    FROM orders o WHERE o.event_id = p_event_id AND o.buyer_id = p_buyer_id AND o.status = 'confirmed';
  IF v_bought + p_wanted > v_max THEN
    o_refusal := 'limit_exceeded';
    o_detail := jsonb_build_object('maxSeatsPerBuyer', v_max, 'alreadyBought', v_bought, 'requested', p_wanted);
  END IF;
END $$;

CREATE FUNCTION reserve_hold(
  p_hold_id text,
  p_event_id text,
  p_buyer_id text,
  p_checkout_id text,
  p_seat_ids text[],
  p_quantity integer,
  p_section text,
  p_grace_seconds integer,
  p_deadline timestamptz,
  p_verified_identity text DEFAULT NULL,
  p_max_seats integer DEFAULT NULL,
  OUT o_outcome text,
  OUT o_seat_ids text[],
  OUT o_versions bigint[],
  OUT o_amount_cents integer,
  OUT o_hold_seconds integer,
  OUT o_expires_at timestamptz,
  OUT o_db_now timestamptz,
  OUT o_detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  v_lifetime integer;
  v_got text[];
  v_cand text[];
  v_tried text[] := '{}';
  v_unknown text[];
  v_displaced text[];
  v_attempt integer := 0;
  v_island record;
  v_start integer;
  v_known integer;
  v_free integer;
  v_taken text[];
  v_mine boolean;
  v_max integer;
  v_identity_seats integer;
BEGIN
  IF p_seat_ids IS NOT NULL THEN
    -- One plain read settles a losing attempt: no row lock, no second statement. It also tells
    -- whether this very hold id holds any of the seats (a retried reservation that committed).
    SELECT count(*)::int,
           count(*) FILTER (WHERE s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now()))::int,
           array_agg(s.seat_id ORDER BY s.seat_id)
             FILTER (WHERE NOT (s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now()))),
           bool_or(s.hold_id = p_hold_id)
      INTO v_known, v_free, v_taken, v_mine
      FROM unnest(p_seat_ids) AS w(id) JOIN seats s ON s.event_id = p_event_id AND s.seat_id = w.id;
  END IF;
  -- Idempotency by hold id: probed for a named-seat request only when its seats could be its own
  -- (held by this id, or all free again after the hold ended); a loser to another hold skips it.
  IF p_seat_ids IS NULL OR v_mine OR v_free = cardinality(p_seat_ids) THEN
    SELECT h.seat_ids, h.amount_cents, h.expires_at, e.hold_seconds
      INTO o_seat_ids, o_amount_cents, o_expires_at, o_hold_seconds
      FROM holds h JOIN events e ON e.id = h.event_id WHERE h.id = p_hold_id;
    IF FOUND THEN
      o_outcome := 'replayed';
      o_db_now := clock_timestamp();
      RETURN;
    END IF;
  END IF;

  IF p_seat_ids IS NOT NULL THEN
    IF v_known <> cardinality(p_seat_ids) THEN
      SELECT array_agg(x) INTO v_unknown FROM unnest(p_seat_ids) x
       WHERE NOT EXISTS (SELECT 1 FROM seats s WHERE s.event_id = p_event_id AND s.seat_id = x);
      IF v_unknown IS NOT NULL THEN
        o_outcome := 'unknown_seats';
        o_detail := jsonb_build_object('seatIds', to_jsonb(v_unknown));
        RETURN;
      END IF;
    END IF;
    IF v_free <> cardinality(p_seat_ids) THEN
      o_outcome := 'unavailable';
      o_detail := jsonb_build_object('seatIds', to_jsonb(COALESCE(v_taken, '{}')));
      RETURN;
    END IF;
    -- Every seat looked free: lock them, skipping any another attempt has locked meanwhile.
    SELECT array_agg(t.seat_id) INTO v_got FROM (
      SELECT s.seat_id FROM unnest(p_seat_ids) AS w(id) JOIN seats s ON s.event_id = p_event_id AND s.seat_id = w.id
       WHERE s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now())
       ORDER BY s.seat_id FOR UPDATE OF s SKIP LOCKED) t;
    IF COALESCE(cardinality(v_got), 0) <> cardinality(p_seat_ids) THEN
      -- Another attempt locked some of them since the read (every seat exists: the read said so).
      o_outcome := 'unavailable';
      o_detail := jsonb_build_object('seatIds',
        to_jsonb(ARRAY(SELECT x FROM unnest(p_seat_ids) x WHERE NOT (x = ANY(COALESCE(v_got, '{}'))))));
      RETURN;
    END IF;
    -- The sale's terms and the buyer's limit, only for an attempt that would win: a losing attempt
    -- (most of them, in a flash crowd) costs the read and, when its seats looked free, the lock.
    SELECT t.o_refusal, t.o_hold_seconds, t.o_detail INTO o_outcome, o_hold_seconds, o_detail
      FROM reserve_terms(p_event_id, p_buyer_id, cardinality(p_seat_ids), p_max_seats) t;
    IF o_outcome IS NOT NULL THEN
      RETURN;
    END IF;
    v_lifetime := o_hold_seconds + p_grace_seconds;
  ELSE
    SELECT t.o_refusal, t.o_hold_seconds, t.o_detail INTO o_outcome, o_hold_seconds, o_detail
      FROM reserve_terms(p_event_id, p_buyer_id, p_quantity, p_max_seats) t;
    IF o_outcome IS NOT NULL THEN
      RETURN;
    END IF;
    v_lifetime := o_hold_seconds + p_grace_seconds;
    IF p_section IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sections WHERE event_id = p_event_id AND id = p_section) THEN
      o_outcome := 'unknown_section';
      o_detail := jsonb_build_object('section', p_section);
      RETURN;
    END IF;
    WHILE v_attempt < 6 AND v_got IS NULL LOOP
      -- The best islands (runs of adjacent free seats in one row): no single-seat gap left if
      -- avoidable, then section rank, rows front to back, nearest the centre. Concurrent buyers
      -- are spread over the three best instead of all racing for the first.
      SELECT i.* INTO v_island FROM (
        SELECT b.*, row_number() OVER () AS rn, count(*) OVER () AS cnt FROM (
          SELECT f.section_id, f.row_no, min(f.seat_no) AS lo, max(f.seat_no) AS hi, min(sec.seats_per_row) AS width
            FROM (SELECT s.section_id, s.row_no, s.seat_no,
                         s.seat_no - row_number() OVER (PARTITION BY s.section_id, s.row_no ORDER BY s.seat_no) AS grp
                    FROM seats s
                   WHERE s.event_id = p_event_id AND (p_section IS NULL OR s.section_id = p_section)
                     AND (s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now()))
                     AND NOT (s.seat_id = ANY(v_tried))) f
            JOIN sections sec ON sec.event_id = p_event_id AND sec.id = f.section_id
           GROUP BY f.section_id, f.row_no, f.grp, sec.rank
          HAVING count(*) >= p_quantity
           ORDER BY (count(*) - p_quantity = 1), sec.rank, f.row_no,
                    abs((min(f.seat_no) + max(f.seat_no)) / 2.0 - (min(sec.seats_per_row) + 1) / 2.0)
           LIMIT 3) b) i
       WHERE i.rn = 1 + (v_attempt % i.cnt);
      IF FOUND THEN
        -- domain/seating.ts chooseBlock: fewest orphans, then nearest the centre, then the lowest start.
        SELECT g INTO v_start FROM generate_series(v_island.lo, v_island.hi - p_quantity + 1) g
         ORDER BY (g - v_island.lo = 1)::int + (v_island.hi - (g + p_quantity - 1) = 1)::int,
                  abs(g + (p_quantity - 1) / 2.0 - (v_island.width + 1) / 2.0), g
         LIMIT 1;
        v_cand := ARRAY(SELECT v_island.section_id || '-' || v_island.row_no || '-' || n
                          FROM generate_series(v_start, v_start + p_quantity - 1) n);
      ELSE
        v_cand := ARRAY(SELECT s.seat_id FROM seats s JOIN sections sec ON sec.event_id = s.event_id AND sec.id = s.section_id
                         WHERE s.event_id = p_event_id AND (p_section IS NULL OR s.section_id = p_section)
                           AND (s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now()))
                           AND NOT (s.seat_id = ANY(v_tried))
                         ORDER BY sec.rank, s.row_no, s.seat_no LIMIT p_quantity);
      END IF;
      EXIT WHEN cardinality(v_cand) < p_quantity;
      SELECT array_agg(t.seat_id) INTO v_got FROM (
        SELECT s.seat_id FROM unnest(v_cand) AS w(id) JOIN seats s ON s.event_id = p_event_id AND s.seat_id = w.id
         WHERE s.status = 'available' OR (s.status = 'held' AND s.hold_expires_at < now())
         ORDER BY s.seat_id FOR UPDATE OF s SKIP LOCKED) t;
      IF COALESCE(cardinality(v_got), 0) <> p_quantity THEN
        v_got := NULL;
        v_tried := v_tried || v_cand;
      END IF;
      v_attempt := v_attempt + 1;
    END LOOP;
    IF v_got IS NULL THEN
      o_outcome := 'unavailable';
      o_detail := jsonb_build_object('quantity', p_quantity, 'section', p_section);
      RETURN;
    END IF;
  END IF;

  -- The person behind the account: seats that any account of theirs holds or bought count against
  -- the event's maxSeatsPerBuyer (or the buyer's smaller allowance). Only an attempt that has its
  -- seats locked gets here, and only a
  -- verified buyer's pays for it: a loser, or a buyer with no verified identity, reads nothing more.
  -- The lock per person and event serialises two accounts of one person holding at once; the seats
  -- were locked with SKIP LOCKED, so nobody holding this lock ever waits for a seat, and no cycle can
  -- form. The count is a statement of its own, after the lock: its snapshot sees a hold that another
  -- account of the person committed while this attempt waited.
  IF p_verified_identity IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_event_id || '/' || p_verified_identity, 727274009));
    SELECT LEAST(e.max_seats_per_buyer, COALESCE(p_max_seats, e.max_seats_per_buyer)),
           (SELECT COALESCE(sum(cardinality(h.seat_ids)), 0)::int FROM holds h
             WHERE h.event_id = p_event_id AND h.verified_identity = p_verified_identity AND h.id <> p_hold_id
               AND (h.status = 'purchased' OR (h.status = 'active' AND h.expires_at > now()))
               AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.hold_id = h.id AND o.status = 'refunded'))
      INTO v_max, v_identity_seats
      FROM events e WHERE e.id = p_event_id;
    IF v_identity_seats + cardinality(v_got) > v_max THEN
      o_outcome := 'limit_exceeded';
      o_detail := jsonb_build_object('reason', 'seats_per_identity', 'maxSeatsPerBuyer', v_max,
                                     'seatsOfIdentity', v_identity_seats, 'requested', cardinality(v_got));
      RETURN;
    END IF;
  END IF;

  -- Every wanted seat is locked and free: take them all.
  SELECT array_agg(DISTINCT s.hold_id) INTO v_displaced
    FROM unnest(v_got) AS w(id) JOIN seats s ON s.event_id = p_event_id AND s.seat_id = w.id
   WHERE s.hold_id IS NOT NULL;
  WITH taken AS (
    UPDATE seats s SET status = 'held', hold_id = p_hold_id, holder = p_buyer_id,
                       hold_expires_at = now() + make_interval(secs => v_lifetime),
                       version = nextval('seat_version_seq')
      FROM unnest(v_got) AS w(id)
     WHERE s.event_id = p_event_id AND s.seat_id = w.id
    RETURNING s.seat_id, s.price_cents, s.version)
  SELECT array_agg(t.seat_id ORDER BY t.seat_id), array_agg(t.version ORDER BY t.seat_id), sum(t.price_cents)::int
    INTO o_seat_ids, o_versions, o_amount_cents FROM taken t;
  IF v_displaced IS NOT NULL THEN
    UPDATE holds SET status = 'expired', ended_at = clock_timestamp() WHERE id = ANY(v_displaced) AND status = 'active';
  END IF;
  INSERT INTO holds (id, event_id, buyer_id, checkout_id, seat_ids, amount_cents, expires_at, created_at, verified_identity)
  VALUES (p_hold_id, p_event_id, p_buyer_id, p_checkout_id, o_seat_ids, o_amount_cents,
          now() + make_interval(secs => v_lifetime), clock_timestamp(), p_verified_identity)
  RETURNING expires_at INTO o_expires_at;
  o_db_now := clock_timestamp();
  IF p_deadline IS NOT NULL AND o_db_now > p_deadline THEN
    RAISE EXCEPTION 'the hold request timed out before its seats were reserved' USING ERRCODE = 'query_canceled';
  END IF;
  o_outcome := 'held';
END $$;

ALTER FUNCTION reserve_hold(text, text, text, text, text[], integer, text, integer, timestamptz, text, integer)
  SET plan_cache_mode = force_generic_plan;
