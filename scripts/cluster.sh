#!/usr/bin/env bash
# The cluster topology on one machine: what onsale looks like once it outgrows
# the embedded dev server, rehearsed on loopback with Debian packages and Go
# modules only (docker-compose.yml is the same topology in containers).
#
#   temporal     7333 (HTTP 7343)  the real Temporal server, built from its Go
#                                  module, on databases temporal and
#                                  temporal_visibility of the project's Postgres;
#                                  numHistoryShards from ONSALE_TEMPORAL_HISTORY_SHARDS (4)
#   temporal-ui  8333              the Temporal UI server, pointed at it
#   redis        16001-16003       Redis Cluster, three masters (Debian redis-server),
#                                  cluster bus on 16101-16103 (below Linux's ephemeral
#                                  ports, 32768-60999, which a client's outgoing
#                                  connection may hold when the cluster starts)
#   worker       x2                tsx workers/main.ts
#   api          3301, 3302        tsx api/server.ts
#   lb           3300 (stats 3309) HAProxy in front of the two API processes
#
# It needs the base services of scripts/stack.sh (Postgres, Redis, stripe-mock,
# Mailpit): their settings come from the environment, or from .state/stack.env
# when DATABASE_URL is not set. The dev server (7233) is neither needed nor
# disturbed: both topologies can run side by side.
#
# Usage: scripts/cluster.sh up [component...]     start (or reuse) components, in order
#        scripts/cluster.sh down [component...]   stop them, in reverse order
#        scripts/cluster.sh status                each component: up/down
#        scripts/cluster.sh env                   settings of the cluster (also .state/cluster.env)
#        scripts/cluster.sh reset                 down, then drop the Temporal databases and
#                                                 the Redis Cluster state (e.g. to change the shard count)
# Components: temporal temporal-ui redis worker api lb ("backing" = the first three, "app" = the rest).
set -euo pipefail
# stack.sh's process helpers (start_bg, stop_bg, bg_alive) and settings.
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

COMPONENTS=(temporal temporal-ui redis worker api lb)
# Four Node processes compiling TypeScript at once on two cores start slowly.
START_TIMEOUT=${ONSALE_START_TIMEOUT:-240}
CLUSTER_DIR=$ONSALE_STATE/cluster
CLUSTER_ENV=$ONSALE_STATE/cluster.env

C_TEMPORAL_PORT=${ONSALE_TEMPORAL_PORT:-7333}
C_TEMPORAL_UI_PORT=${ONSALE_TEMPORAL_UI_PORT:-8333}
C_TEMPORAL_ADDRESS=127.0.0.1:$C_TEMPORAL_PORT
C_TEMPORAL_UI_URL=http://127.0.0.1:$C_TEMPORAL_UI_PORT
C_SHARDS=${ONSALE_TEMPORAL_HISTORY_SHARDS:-4}
C_TEMPORAL_DB=${ONSALE_TEMPORAL_DB:-temporal}
C_VISIBILITY_DB=${ONSALE_TEMPORAL_VISIBILITY_DB:-temporal_visibility}
C_REDIS_PORTS=(16001 16002 16003)
C_API_PORTS=(3301 3302)
C_WORKERS=${ONSALE_CLUSTER_WORKERS:-2}
C_LB_PORT=3300
C_LB_STATS_PORT=3309
C_LB_URL=http://127.0.0.1:$C_LB_PORT
# Each app process has its own Postgres pool; four of them next to the Temporal
# server's (up to 4 services x 22 connections) stay under max_connections=200.
C_APP_POOL_SIZE=${ONSALE_CLUSTER_POOL_SIZE:-10}

mkdir -p "$CLUSTER_DIR"

# ------------------------------------------------------------ settings ------

# The base services' settings: what the caller's environment sets (another
# checkout's stack, managed services) wins; this checkout's stack.env fills in
# the rest (the generated secrets, the local services' addresses).
load_base_env() {
  local line var
  if [[ -f $STACK_ENV ]]; then
    while IFS= read -r line; do
      [[ $line =~ ^export\ ([A-Z_][A-Z0-9_]*)= ]] || continue
      var=${BASH_REMATCH[1]}
      [[ -n ${!var:-} ]] && continue
      # Lines written by stack.sh's emit (printf %q), so eval reads them back verbatim.
      eval "$line"
    done <"$STACK_ENV"
  fi
  [[ -n ${DATABASE_URL:-} ]] || die "no DATABASE_URL and no $STACK_ENV: start the base services first (./onsale stack up postgres redis stripe-mock mailpit)"
  for var in DATABASE_URL REDIS_URL STRIPE_SECRET_KEY SMTP_URL ADMIN_TOKEN; do
    [[ -n ${!var:-} ]] || die "$var is not set (source .state/stack.env, or run ./onsale stack up)"
  done
  # postgres://user[:password]@host[:port]/db
  [[ $DATABASE_URL =~ ^postgres(ql)?://([^:@/]+)(:([^@]*))?@([^:/]+)(:([0-9]+))?/ ]] \
    || die "cannot read user, host and port from DATABASE_URL ($(mask_password "$DATABASE_URL"))"
  PG_USER=${BASH_REMATCH[2]}
  PG_PASSWORD=${BASH_REMATCH[4]}
  PG_HOST=${BASH_REMATCH[5]}
  PG_TCP_PORT=${BASH_REMATCH[7]:-5432}
  # The Temporal server's config template (deploy/temporal/config/onsale.yaml) reads these.
  export ONSALE_TEMPORAL_DB_HOST=$PG_HOST ONSALE_TEMPORAL_DB_PORT=$PG_TCP_PORT
  export ONSALE_TEMPORAL_DB_USER=$PG_USER ONSALE_TEMPORAL_DB_PASSWORD=$PG_PASSWORD
  export ONSALE_TEMPORAL_DB=$C_TEMPORAL_DB ONSALE_TEMPORAL_VISIBILITY_DB=$C_VISIBILITY_DB
  export ONSALE_TEMPORAL_HISTORY_SHARDS=$C_SHARDS ONSALE_TEMPORAL_PORT=$C_TEMPORAL_PORT
  export ONSALE_TEMPORAL_DYNAMIC_CONFIG=$ONSALE_ROOT/deploy/temporal/dynamicconfig/onsale.yaml
  export ONSALE_TEMPORAL_ADDRESS=$C_TEMPORAL_ADDRESS ONSALE_TEMPORAL_UI_PORT=$C_TEMPORAL_UI_PORT
  export ONSALE_PUBLIC_BASE_URL=$C_LB_URL
}

redis_cluster_nodes() {
  local IFS=,
  local nodes=("${C_REDIS_PORTS[@]/#/127.0.0.1:}")
  echo "${nodes[*]}"
}

# The application reads REDIS_CLUSTER_NODES once platform/redis.ts hands over
# to platform/redis-cluster.ts; until then its processes keep the standalone
# Redis of the base stack, and Redis Cluster runs beside them on its own.
app_reads_redis_cluster() {
  grep -q 'redis-cluster' "$ONSALE_ROOT/platform/redis.ts" 2>/dev/null
}

# pq DB SQL: one value from the Temporal databases' Postgres, as the project's role.
pq() {
  PGPASSWORD=$PG_PASSWORD psql -X -q -t -A -h "$PG_HOST" -p "$PG_TCP_PORT" -U "$PG_USER" -d "$1" -c "$2"
}

render_cluster_env() {
  echo "# onsale cluster topology (scripts/cluster.sh): the base stack's settings"
  echo "# with Temporal, Redis and the API address of the cluster. Use: source .state/cluster.env"
  local var
  for var in DATABASE_URL TEST_DATABASE_URL STRIPE_SECRET_KEY STRIPE_API_URL SMTP_URL MAILPIT_API_URL MAIL_FROM \
    "${SECRET_VARS[@]}" PAYMENT_PROVIDER ONSALE_MODE LOG_LEVEL TEMPORAL_TEST_SERVER_PATH; do
    emit "$var" "${!var:-}"
  done
  emit TEMPORAL_ADDRESS "$C_TEMPORAL_ADDRESS"
  emit TEMPORAL_NAMESPACE default
  emit TEMPORAL_UI_URL "$C_TEMPORAL_UI_URL"
  if app_reads_redis_cluster; then
    emit REDIS_URL "redis://127.0.0.1:${C_REDIS_PORTS[0]}"
    emit REDIS_CLUSTER_NODES "$(redis_cluster_nodes)"
  else
    emit REDIS_URL "$REDIS_URL"
  fi
  emit ONSALE_REDIS_CLUSTER_NODES "$(redis_cluster_nodes)"
  emit PUBLIC_BASE_URL "$C_LB_URL"
  # Where clients (scripts/demo.ts, the bench) reach the API: the load
  # balancer. Each API process gets its own port when it starts.
  emit API_PORT "$C_LB_PORT"
  emit ONSALE_API_URL "$C_LB_URL"
  # HAProxy appends the buyer's address to X-Forwarded-For.
  emit TRUST_PROXY_HOPS 1
  emit DATABASE_POOL_SIZE "$C_APP_POOL_SIZE"
  emit ONSALE_TEMPORAL_HISTORY_SHARDS "$C_SHARDS"
}

write_cluster_env() {
  local tmp=$CLUSTER_ENV.tmp.$$
  (
    umask 077
    render_cluster_env >"$tmp"
  )
  mv "$tmp" "$CLUSTER_ENV"
}

# ------------------------------------------------------------ temporal ------

temporal_admin() {
  "$TEMPORAL_BIN" "$@" --address "$C_TEMPORAL_ADDRESS" --disable-config-env --disable-config-file
}

sql_tool() {
  SQL_PASSWORD=$PG_PASSWORD "$TEMPORAL_SQL_TOOL_BIN" --plugin postgres12 --ep "$PG_HOST" -p "$PG_TCP_PORT" -u "$PG_USER" "$@"
}

# The versioned schema directories ship in the server module, which the build
# left in Go's module cache.
schema_dir() {
  local modcache dir
  modcache=$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")
  dir=$modcache/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12/$1/versioned
  [[ -d $dir ]] || die "schema directory $dir is missing (run scripts/install.sh --cluster)"
  echo "$dir"
}

# Creates the two databases and brings their schema to the server's version;
# safe on every start (update-schema does nothing when the schema is current).
temporal_schema() {
  local db kind logfile=$LOGS/cluster-temporal-schema.log
  : >"$logfile"
  for db in "$C_TEMPORAL_DB" "$C_VISIBILITY_DB"; do
    kind=temporal
    [[ $db == "$C_VISIBILITY_DB" ]] && kind=visibility
    if [[ "$(pq postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
      log "temporal: creating database $db"
      sql_tool --db "$db" create-database >>"$logfile" 2>&1 || { log_tail "$logfile"; die "could not create database $db"; }
    fi
    if [[ -z "$(pq "$db" "SELECT to_regclass('schema_version')")" ]]; then
      log "temporal: setting up the $kind schema in $db"
      sql_tool --db "$db" setup-schema -v 0.0 >>"$logfile" 2>&1 || { log_tail "$logfile"; die "setup-schema on $db failed"; }
    fi
    sql_tool --db "$db" update-schema -d "$(schema_dir "$kind")" >>"$logfile" 2>&1 \
      || { log_tail "$logfile"; die "update-schema on $db failed"; }
  done
  # The shard count is fixed when the server first starts on a database.
  local have
  have=$(pq "$C_TEMPORAL_DB" "SELECT count(*) FROM shards")
  if ((have > 0 && have != C_SHARDS)); then
    die "database $C_TEMPORAL_DB was initialised with $have history shards, not $C_SHARDS: scripts/cluster.sh reset (drops it), or ONSALE_TEMPORAL_DB=temporal_s$C_SHARDS ONSALE_TEMPORAL_VISIBILITY_DB=temporal_visibility_s$C_SHARDS for a second pair"
  fi
}

temporal_start() {
  for bin in "$TEMPORAL_SERVER_BIN" "$TEMPORAL_SQL_TOOL_BIN" "$TEMPORAL_BIN"; do
    [[ -x $bin ]] || die "$bin is missing (run scripts/install.sh --cluster)"
  done
  temporal_schema
  # What status reports: the running server's settings, not the caller's.
  echo "$C_SHARDS history shards, databases $C_TEMPORAL_DB, $C_VISIBILITY_DB" >"$CLUSTER_DIR/temporal.running"
  start_bg cluster-temporal "$TEMPORAL_SERVER_BIN" --root "$ONSALE_ROOT" --config deploy/temporal/config --env onsale \
    --allow-no-auth start
}

# Ready when the frontend answers, the namespace exists and the search
# attributes the workflows set are registered (created here when missing,
# while bringing the cluster up; status only looks).
SETTING_UP=0
temporal_ready() {
  port_open "$C_TEMPORAL_PORT" || return 1
  temporal_admin operator cluster health --command-timeout 3s >/dev/null 2>&1 || return 1
  if ! temporal_admin operator namespace describe --namespace default --command-timeout 3s >/dev/null 2>&1; then
    ((SETTING_UP)) || return 1
    temporal_admin operator namespace create --namespace default --retention 72h --command-timeout 5s \
      >>"$LOGS/cluster-temporal.log" 2>&1 || return 1
  fi
  local out sa name
  out=$(temporal_admin operator search-attribute list --namespace default --command-timeout 3s 2>/dev/null) || return 1
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    name=${sa%%=*}
    grep -qw "$name" <<<"$out" && continue
    ((SETTING_UP)) || return 1
    temporal_admin operator search-attribute create --namespace default --name "$name" --type "${sa#*=}" \
      --command-timeout 5s >>"$LOGS/cluster-temporal.log" 2>&1 || return 1
    return 1
  done
}
temporal_alive() { bg_alive cluster-temporal; }
temporal_stop() { stop_bg cluster-temporal; }

temporal_ui_start() {
  [[ -x $TEMPORAL_UI_SERVER_BIN ]] || die "$TEMPORAL_UI_SERVER_BIN is missing (run scripts/install.sh --cluster)"
  start_bg cluster-temporal-ui "$TEMPORAL_UI_SERVER_BIN" --root "$ONSALE_ROOT" --config deploy/temporal/ui --env onsale start
}
temporal_ui_ready() { curl -fsS -o /dev/null --max-time 3 "$C_TEMPORAL_UI_URL/api/v1/settings" 2>/dev/null; }
temporal_ui_alive() { bg_alive cluster-temporal-ui; }
temporal_ui_stop() { stop_bg cluster-temporal-ui; }

# --------------------------------------------------------------- redis ------

redis_node_start() {
  local port=$1 dir=$CLUSTER_DIR/redis/$1
  mkdir -p "$dir"
  # Like the standalone Redis: a cache of what Postgres can rebuild, so no
  # persistence; only the cluster's own node table (nodes.conf) is kept.
  # The cluster bus gets its own port beside the node's, out of the ephemeral range like the node's.
  start_bg "cluster-redis-$port" redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --cluster-enabled yes --cluster-port $((port + 100)) --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --appendonly no --save "" --daemonize no --protected-mode yes --loglevel warning
}

redis_start() {
  local port
  for port in "${C_REDIS_PORTS[@]}"; do
    bg_alive "cluster-redis-$port" || redis_node_start "$port"
  done
}

redis_cluster_state() { redis-cli -p "${C_REDIS_PORTS[0]}" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'; }

# Ready when every node answers and the cluster covers all slots; the first
# time, the three empty nodes are joined and the slots split between them.
redis_ready() {
  local port
  for port in "${C_REDIS_PORTS[@]}"; do
    [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]] || return 1
  done
  [[ "$(redis_cluster_state)" == ok ]] && return 0
  local assigned
  assigned=$(redis-cli -p "${C_REDIS_PORTS[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_slots_assigned://p')
  if [[ $assigned == 0 ]] && ((SETTING_UP)); then
    log "redis: creating the cluster (${#C_REDIS_PORTS[@]} masters, no replicas)"
    redis-cli --cluster create "${C_REDIS_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
      >>"$LOGS/cluster-redis.log" 2>&1 || { log_tail "$LOGS/cluster-redis.log"; die "redis-cli --cluster create failed"; }
  fi
  return 1
}
redis_alive() {
  local port
  for port in "${C_REDIS_PORTS[@]}"; do bg_alive "cluster-redis-$port" || return 1; done
}
redis_stop() {
  local port
  for port in "${C_REDIS_PORTS[@]}"; do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    stop_bg "cluster-redis-$port"
  done
}

# ----------------------------------------------------- app processes ------

# app_start NAME ENTRY [VAR=value...]: the cluster's settings plus the given
# overrides, in its own session like the other services.
app_start() {
  local name=$1 entry=$2
  shift 2
  [[ -x $ONSALE_ROOT/node_modules/.bin/tsx ]] || die "node_modules missing (run scripts/install.sh)"
  # The log's size now: readiness looks only at what this start writes.
  stat -c %s "$LOGS/$name.log" >"$RUN/$name.offset" 2>/dev/null || echo 0 >"$RUN/$name.offset"
  (
    set -a
    # shellcheck source=/dev/null
    source "$CLUSTER_ENV"
    set +a
    cd "$ONSALE_ROOT"
    start_bg "$name" env "$@" node_modules/.bin/tsx "$entry"
  )
}

log_since_start() { tail -c +$(($(cat "$RUN/$1.offset" 2>/dev/null || echo 0) + 1)) "$LOGS/$1.log" 2>/dev/null; }

worker_names() { local i; for ((i = 1; i <= C_WORKERS; i++)); do echo "cluster-worker-$i"; done; }

worker_start() {
  local name
  for name in $(worker_names); do
    bg_alive "$name" || app_start "$name" workers/main.ts
  done
}
worker_ready() {
  local name
  for name in $(worker_names); do
    log_since_start "$name" | grep -q 'worker started' || return 1
  done
}
worker_alive() { local name; for name in $(worker_names); do bg_alive "$name" || return 1; done; }
worker_stop() { local name; for name in $(worker_names); do stop_bg "$name"; done; }

api_start() {
  local i
  for i in "${!C_API_PORTS[@]}"; do
    bg_alive "cluster-api-$((i + 1))" || app_start "cluster-api-$((i + 1))" api/server.ts API_PORT="${C_API_PORTS[i]}" API_HOST=127.0.0.1
  done
}
api_ready() {
  local port
  for port in "${C_API_PORTS[@]}"; do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")" == 200 ]] || return 1
  done
}
api_alive() { local i; for i in "${!C_API_PORTS[@]}"; do bg_alive "cluster-api-$((i + 1))" || return 1; done; }
api_stop() { local i; for i in "${!C_API_PORTS[@]}"; do stop_bg "cluster-api-$((i + 1))"; done; }

lb_start() {
  command -v haproxy >/dev/null || die "haproxy is missing (run scripts/install.sh --cluster)"
  export LB_BIND=127.0.0.1:$C_LB_PORT LB_STATS_BIND=127.0.0.1:$C_LB_STATS_PORT
  export API_1=127.0.0.1:${C_API_PORTS[0]} API_2=127.0.0.1:${C_API_PORTS[1]}
  haproxy -c -q -f "$ONSALE_ROOT/deploy/haproxy/onsale.cfg" >>"$LOGS/cluster-lb.log" 2>&1 \
    || { log_tail "$LOGS/cluster-lb.log"; die "deploy/haproxy/onsale.cfg does not validate"; }
  # -W: master-worker, -db: stay in the foreground (start_bg owns the process).
  start_bg cluster-lb haproxy -W -db -f "$ONSALE_ROOT/deploy/haproxy/onsale.cfg"
}
lb_ready() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$C_LB_URL/readyz")" == 200 ]]; }
lb_alive() { bg_alive cluster-lb; }
lb_stop() { stop_bg cluster-lb; }

# ------------------------------------------------------------ commands ------

# select_components [name...]: the named components (default all; "backing"
# and "app" name the two halves), in start order.
select_components() {
  local want=" $* " c
  want=${want// backing / temporal temporal-ui redis }
  want=${want// app / worker api lb }
  for c in "$@"; do
    [[ " ${COMPONENTS[*]} backing app " == *" $c "* ]] || die "unknown component '$c' (components: ${COMPONENTS[*]}, backing, app)"
  done
  for c in "${COMPONENTS[@]}"; do
    if (($# == 0)) || [[ $want == *" $c "* ]]; then echo "$c"; fi
  done
}

component_wait() {
  local c=$1 fn deadline
  fn=$(fn_name "$c")
  deadline=$((SECONDS + START_TIMEOUT))
  until "${fn}_ready"; do
    if ! "${fn}_alive"; then
      log_tail "$LOGS/cluster-$c.log"
      compgen -G "$LOGS/cluster-$c-*.log" >/dev/null && for f in "$LOGS/cluster-$c-"*.log; do log_tail "$f"; done
      die "$c exited during start-up"
    fi
    ((SECONDS < deadline)) || die "$c did not become ready within ${START_TIMEOUT}s (logs: $LOGS/cluster-$c*.log)"
    sleep 0.5
  done
}

migrate() {
  [[ -f $ONSALE_ROOT/db/migrate.ts ]] || return 0
  log "migrating the database"
  (
    set -a
    # shellcheck source=/dev/null
    source "$CLUSTER_ENV"
    set +a
    cd "$ONSALE_ROOT" && node_modules/.bin/tsx db/migrate.ts >/dev/null
  ) || die "db/migrate.ts failed"
}

cmd_up() {
  local comps c fn start migrated=0
  mapfile -t comps < <(select_components "$@")
  load_base_env
  write_cluster_env
  SETTING_UP=1
  start=$(now_ms)
  # Each waits for the one before: the API needs the workers' task queue
  # served, HAProxy's checks need the API.
  for c in "${comps[@]}"; do
    fn=$(fn_name "$c")
    if [[ $c == worker || $c == api ]] && ((migrated == 0)); then
      migrate
      migrated=1
    fi
    if "${fn}_alive" && "${fn}_ready"; then
      log "$c: already up"
      continue
    fi
    log "$c: starting (log: $LOGS/cluster-$c*.log)"
    "${fn}_start"
    component_wait "$c"
    [[ -n ${ONSALE_STARTED_FILE:-} ]] && echo "$c" >>"$ONSALE_STARTED_FILE"
  done
  ((${#comps[@]} == 0)) || log "cluster up in $(($(now_ms) - start))ms; settings in $CLUSTER_ENV"
  app_reads_redis_cluster || log "note: the application does not read REDIS_CLUSTER_NODES yet (platform/redis.ts); its processes use the standalone Redis"
}

cmd_down() {
  local comps i
  mapfile -t comps < <(select_components "$@")
  for ((i = ${#comps[@]} - 1; i >= 0; i--)); do
    if "$(fn_name "${comps[i]}")_alive"; then log "${comps[i]}: stopping"; fi
    "$(fn_name "${comps[i]}")_stop"
  done
}

cmd_status() {
  local c fn state rc=0 where
  for c in "${COMPONENTS[@]}"; do
    fn=$(fn_name "$c")
    if "${fn}_alive" && "${fn}_ready" 2>/dev/null; then
      state=up
    elif "${fn}_alive"; then
      state=starting
      rc=1
    else
      state=down
      rc=1
    fi
    case $c in
      temporal) where="$C_TEMPORAL_ADDRESS ($(cat "$CLUSTER_DIR/temporal.running" 2>/dev/null || echo "$C_SHARDS history shards, databases $C_TEMPORAL_DB, $C_VISIBILITY_DB"))" ;;
      temporal-ui) where=$C_TEMPORAL_UI_URL ;;
      redis) where="$(redis_cluster_nodes) (cluster_state: $(redis_cluster_state || true))" ;;
      worker) where="$C_WORKERS processes" ;;
      api) where="127.0.0.1:${C_API_PORTS[*]}" ;;
      lb) where="$C_LB_URL (stats http://127.0.0.1:$C_LB_STATS_PORT/stats)" ;;
    esac
    printf '%-12s %-9s %s\n' "$c" "$state" "$where"
  done
  return $rc
}

cmd_reset() {
  cmd_down
  load_base_env
  local db
  for db in "$C_TEMPORAL_DB" "$C_VISIBILITY_DB"; do
    if [[ "$(pq postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" == 1 ]]; then
      log "dropping database $db"
      pq postgres "DROP DATABASE \"$db\"" >/dev/null
    fi
  done
  rm -rf "$CLUSTER_DIR/redis"
}

cluster_main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    up | start) cmd_up "$@" ;;
    down | stop) cmd_down "$@" ;;
    status) cmd_status ;;
    env)
      load_base_env
      write_cluster_env
      cat "$CLUSTER_ENV"
      ;;
    reset) cmd_reset ;;
    *)
      sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

cluster_main "$@"
