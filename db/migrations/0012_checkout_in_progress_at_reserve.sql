-- A buyer who already holds seats for the event is refused at the reserve,
-- before anything is taken: outcome checkout_in_progress.
--
-- The API now reserves a winning claim's seats itself and then starts the
-- buyer's checkout, which begins held. One checkout per buyer and event runs at
-- a time; a buyer whose checkout still holds seats must be told so (409
-- CHECKOUT_IN_PROGRESS) without the reserve taking seats it would then have to
-- give back. The buyer's active holds are read by the holds_by_buyer index,
-- and only on an attempt that would win: reserve_terms runs after the seats are
-- locked (named seats) or before the search (best available).
CREATE OR REPLACE FUNCTION reserve_terms(p_event_id text, p_buyer_id text, p_wanted integer,
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
  SELECT e.state, e.on_sale_at <= now(), e.hold_seconds, e.max_seats_per_buyer
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
