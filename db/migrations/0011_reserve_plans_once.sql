-- The reserve plans its statements once per connection, not on every call.
--
-- A PL/pgSQL function's statements are prepared with the function's arguments
-- as parameters, and Postgres's plan cache plans the first five executions
-- afresh with the actual values before it considers a generic plan; for the
-- reserve's statements (joins of the wanted seats to the primary key, a lookup
-- of the hold by id, the event row by id, the buyer's orders by an index) it
-- kept planning afresh, and planning cost several times what executing did.
-- Measured with pgbench on the development machine, 8 clients reserving single
-- named seats on a fresh 20,000-seat event (most of them winning): 1,536
-- calls/s with the default, 7,583 with one generic plan per statement, against
-- 2,849 for the textbook SELECT ... FOR UPDATE, UPDATE, INSERT transaction on
-- the same seats. Every statement of these two functions is an index lookup
-- whose best plan does not depend on the values; the best-available search
-- scans the event's free seats either way and costs the same under both modes.
ALTER FUNCTION reserve_hold(text, text, text, text, text[], integer, text, integer, timestamptz, text)
  SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION reserve_terms(text, text, integer) SET plan_cache_mode = force_generic_plan;
