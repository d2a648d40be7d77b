-- Per-event limits of the waiting room's public paths. The defaults (also in
-- domain/queue.ts ROOM_LIMIT_DEFAULTS) are sized for shared addresses: behind a
-- carrier-grade NAT or a campus network thousands of real buyers share one
-- address, so the per-address figures are generous and abuse is caught by the
-- per-buyer limits and proof of work instead.

ALTER TABLE events
  ADD COLUMN rate_window_seconds integer NOT NULL DEFAULT 10 CHECK (rate_window_seconds BETWEEN 1 AND 3600),
  ADD COLUMN join_limit_per_ip integer NOT NULL DEFAULT 3000 CHECK (join_limit_per_ip BETWEEN 1 AND 10000000),
  ADD COLUMN join_limit_per_buyer integer NOT NULL DEFAULT 10 CHECK (join_limit_per_buyer BETWEEN 1 AND 100000),
  ADD COLUMN status_limit_per_buyer integer NOT NULL DEFAULT 20 CHECK (status_limit_per_buyer BETWEEN 1 AND 100000),
  ALTER COLUMN max_places_per_ip SET DEFAULT 10000;
