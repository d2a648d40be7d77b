#!/usr/bin/env bash
# The capacity model's quick run (bench/capacity.ts --quick) on variants of the
# cluster topology, one after another on the same machine, then one table:
#
#   replicas  2 API + 2 worker processes, then 1 + 1 (the second of each stopped)
#   shards    the Temporal server on 1, 4 and 16 history shards, each on its own
#             pair of databases (temporal_s1 / temporal_visibility_s1, ...; 4 is
#             the default pair), the application restarted against it
#
# Usage: scripts/capacity-sweep.sh [replicas] [shards]    (default: both)
# Run through ./onsale capacity --sweep, which brings the cluster up first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

OUT=${ONSALE_SWEEP_OUT:-$ONSALE_STATE/capacity-sweep/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
CLUSTER="bash $ONSALE_ROOT/scripts/cluster.sh"
(($#)) || set -- replicas shards

capacity() {
  local name=$1
  log "capacity --quick: $name"
  (
    set -a
    # shellcheck source=/dev/null
    source "$ONSALE_STATE/cluster.env"
    set +a
    cd "$ONSALE_ROOT" && node_modules/.bin/tsx bench/capacity.ts --quick --out "$OUT/$name"
  ) >"$OUT/$name.log" 2>&1 || { log_tail "$OUT/$name.log"; die "capacity run $name failed"; }
}

sweep_replicas() {
  $CLUSTER up >/dev/null
  capacity replicas-2
  log "stopping cluster-api-2 and cluster-worker-2"
  stop_bg cluster-api-2
  stop_bg cluster-worker-2
  # HAProxy takes api2 out of rotation after two failed checks a second apart.
  sleep 4
  capacity replicas-1
  log "starting them again"
  $CLUSTER up worker api >/dev/null
}

sweep_shards() {
  local n
  for n in 1 4 16; do
    local db=temporal_s$n vis=temporal_visibility_s$n
    if ((n == 4)); then db=temporal vis=temporal_visibility; fi
    log "Temporal server on $n history shards ($db, $vis)"
    $CLUSTER down app temporal >/dev/null
    ONSALE_TEMPORAL_HISTORY_SHARDS=$n ONSALE_TEMPORAL_DB=$db ONSALE_TEMPORAL_VISIBILITY_DB=$vis $CLUSTER up >/dev/null
    ONSALE_TEMPORAL_DB=$db ONSALE_TEMPORAL_VISIBILITY_DB=$vis capacity "shards-$n"
  done
  # Back to the default server for whoever uses the topology next.
  $CLUSTER down app temporal >/dev/null
  $CLUSTER up >/dev/null
}

for what in "$@"; do
  case $what in
    replicas) sweep_replicas ;;
    shards) sweep_shards ;;
    *) die "unknown sweep '$what' (replicas, shards)" ;;
  esac
done

(cd "$ONSALE_ROOT" && node_modules/.bin/tsx bench/capacity-sweep.ts "$OUT") | tee "$OUT/sweep.md"
