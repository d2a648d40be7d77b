#!/usr/bin/env bash
# The local backing services of onsale, each on 127.0.0.1 with its data, logs
# and pid under .state/:
#
#   postgres     55432         DATABASE_URL, TEST_DATABASE_URL
#   redis        56379         REDIS_URL
#   temporal     7233 (UI 8233) TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_UI_URL
#   stripe-mock  12111 (https 12112) STRIPE_API_URL, STRIPE_SECRET_KEY
#   mailpit      SMTP 1025, HTTP 8025 SMTP_URL, MAILPIT_API_URL
#
# A service whose variable is already set in the environment to something
# other than the local default (DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS,
# STRIPE_SECRET_KEY, SMTP_URL) is external: nothing is started for it, and its
# variables are passed through. That is how a production-like setup points the
# same code at managed services.
#
# Usage: scripts/stack.sh up|start [service...]   start (or reuse) services
#        scripts/stack.sh down|stop [service...]  stop services started here
#        scripts/stack.sh restart service...
#        scripts/stack.sh status                  each service: up/down/external
#        scripts/stack.sh env                     export lines (also written to .state/stack.env)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

LOGS=$ONSALE_STATE/logs
RUN=$ONSALE_STATE/run
STACK_ENV=$ONSALE_STATE/stack.env
SECRETS_ENV=$ONSALE_STATE/secrets.env
SERVICES=(postgres redis temporal stripe-mock mailpit)

PG_PORT=55432
REDIS_PORT=56379
TEMPORAL_PORT=7233
TEMPORAL_UI_PORT=8233
TEMPORAL_HTTP_PORT=7243
STRIPE_HTTP_PORT=12111
STRIPE_HTTPS_PORT=12112
SMTP_PORT=1025
MAILPIT_HTTP_PORT=8025

LOCAL_DATABASE_URL=postgres://onsale@127.0.0.1:$PG_PORT/onsale
LOCAL_TEST_DATABASE_URL=postgres://onsale@127.0.0.1:$PG_PORT/onsale_test
LOCAL_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
LOCAL_TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_PORT
LOCAL_TEMPORAL_UI_URL=http://127.0.0.1:$TEMPORAL_UI_PORT
LOCAL_STRIPE_API_URL=http://127.0.0.1:$STRIPE_HTTP_PORT
LOCAL_STRIPE_SECRET_KEY=sk_test_123 # stripe-mock accepts any sk_test_ key
LOCAL_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
LOCAL_MAILPIT_API_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT

# Search attributes the workflows set and support staff filter on in the UI.
TEMPORAL_SEARCH_ATTRIBUTES=(EventId=Keyword BuyerId=Keyword CheckoutState=Keyword QueueState=Keyword)

# Readiness timeouts in seconds; a loaded 2-core machine needs slack.
START_TIMEOUT=${ONSALE_START_TIMEOUT:-90}

mkdir -p "$LOGS" "$RUN"

# ------------------------------------------------------------ helpers ------

# service_var SERVICE: the variable whose presence makes SERVICE external.
service_var() {
  case $1 in
    postgres) echo DATABASE_URL ;;
    redis) echo REDIS_URL ;;
    temporal) echo TEMPORAL_ADDRESS ;;
    stripe-mock) echo STRIPE_SECRET_KEY ;;
    mailpit) echo SMTP_URL ;;
    *) die "unknown service '$1' (services: ${SERVICES[*]})" ;;
  esac
}

local_value() {
  case $1 in
    DATABASE_URL) echo "$LOCAL_DATABASE_URL" ;;
    REDIS_URL) echo "$LOCAL_REDIS_URL" ;;
    TEMPORAL_ADDRESS) echo "$LOCAL_TEMPORAL_ADDRESS" ;;
    STRIPE_SECRET_KEY) echo "$LOCAL_STRIPE_SECRET_KEY" ;;
    SMTP_URL) echo "$LOCAL_SMTP_URL" ;;
  esac
}

# is_external SERVICE: its variable is set to something other than the local
# default. (A shell that sourced .state/stack.env has the local values set;
# those still mean "local".)
is_external() {
  local var
  var=$(service_var "$1")
  [[ -n ${!var:-} && ${!var} != "$(local_value "$var")" ]]
}

service_port() {
  case $1 in
    postgres) echo $PG_PORT ;;
    redis) echo $REDIS_PORT ;;
    temporal) echo $TEMPORAL_PORT ;;
    stripe-mock) echo $STRIPE_HTTP_PORT ;;
    mailpit) echo $MAILPIT_HTTP_PORT ;;
  esac
}

# mask_password URL: hides the password part of a URL for display.
mask_password() { sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

service_url() {
  if is_external "$1"; then
    case $1 in
      postgres) mask_password "$DATABASE_URL" ;;
      redis) mask_password "$REDIS_URL" ;;
      temporal) echo "$TEMPORAL_ADDRESS${TEMPORAL_UI_URL:+ (UI $TEMPORAL_UI_URL)}" ;;
      stripe-mock) echo "${STRIPE_API_URL:-https://api.stripe.com}" ;;
      mailpit) mask_password "$SMTP_URL" ;;
    esac
    return 0
  fi
  case $1 in
    postgres) echo "$LOCAL_DATABASE_URL" ;;
    redis) echo "$LOCAL_REDIS_URL" ;;
    temporal) echo "$LOCAL_TEMPORAL_ADDRESS (UI $LOCAL_TEMPORAL_UI_URL)" ;;
    stripe-mock) echo "$LOCAL_STRIPE_API_URL" ;;
    mailpit) echo "$LOCAL_SMTP_URL (UI $LOCAL_MAILPIT_API_URL)" ;;
  esac
}

pid_file() { echo "$RUN/$1.pid"; }

# ---------------------------------------------------------- postgres ------

PG_BIN=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1 || true)
PG_DIR=$ONSALE_STATE/postgres
PG_LOG=$LOGS/postgres.log
# PostgreSQL runs as the postgres OS user, who must reach its data directory.
# A checkout under a private directory (/root is mode 700) gets its cluster
# in /var/tmp instead, one per state directory, with the log linked back.
if ((EUID == 0)) && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$ONSALE_STATE" 2>/dev/null; then
  PG_DIR=/var/tmp/onsale-$(echo "$ONSALE_STATE" | sha256sum | cut -c1-12)/postgres
  PG_LOG=$PG_DIR/postgres.log
fi
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR/run
# A Unix socket path is limited to 107 bytes; a deep checkout falls back to /tmp.
if ((${#PG_SOCK} > 80)); then
  PG_SOCK=/tmp/onsale-pg-$(echo "$ONSALE_STATE" | sha256sum | cut -c1-12)
fi

# as_pg CMD...: PostgreSQL refuses to run as root, so as root run it as the
# postgres OS user that the Debian package creates.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

postgres_init() {
  [[ -n $PG_BIN ]] || die "PostgreSQL is not installed (run scripts/install.sh)"
  mkdir -p "$PG_DIR" "$PG_SOCK"
  touch "$PG_LOG"
  [[ $PG_LOG == "$LOGS/postgres.log" ]] || ln -sfn "$PG_LOG" "$LOGS/postgres.log"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "the 'postgres' OS user is missing (reinstall the postgresql package)"
    chown postgres:postgres "$PG_DIR" "$PG_SOCK" "$PG_LOG"
    runuser -u postgres -- test -w "$PG_DIR" \
      || die "the postgres OS user cannot write $PG_DIR (set ONSALE_STATE_DIR to a directory it can reach)"
  fi
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    local have want
    have=$(cat "$PG_DATA/PG_VERSION")
    want=$(basename "$(dirname "$PG_BIN")")
    [[ $have == "$want" ]] || die "$PG_DATA was created by PostgreSQL $have but this machine has $want: remove $PG_DIR to start afresh"
    return 0
  fi
  log "postgres: creating a cluster in $PG_DATA"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    >>"$PG_LOG" 2>&1 || { log_tail "$PG_LOG"; die "initdb failed"; }
  cat >>"$PG_DATA/postgresql.conf" <<CONF

# onsale local development settings (scripts/stack.sh)
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
logging_collector = off
log_min_messages = warning
CONF
}

postgres_start() {
  postgres_init
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W start >/dev/null \
    || { log_tail "$PG_LOG"; die "pg_ctl start failed"; }
}

postgres_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres 2>/dev/null; }

postgres_alive() { [[ -f $PG_DATA/postmaster.pid ]] && pid_alive "$(pg_pid)"; }

# Role and databases, created when missing (cheap enough to run on every up).
postgres_bootstrap() {
  as_pg psql -X -q -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL' \
    || die "could not create the onsale role and databases (see $PG_LOG)"
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'onsale') THEN
    CREATE ROLE onsale LOGIN CREATEDB;
  END IF;
END $$;
SELECT 'CREATE DATABASE onsale OWNER onsale' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'onsale')
\gexec
SELECT 'CREATE DATABASE onsale_test OWNER onsale' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'onsale_test')
\gexec
SQL
}

postgres_stop() {
  postgres_alive || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null \
    || { log_tail "$PG_LOG"; die "pg_ctl stop failed"; }
}

# ------------------------------------------------- generic processes ------

# start_bg NAME CMD...: runs CMD in its own session (so a Ctrl-C in the
# terminal that started it does not reach it; ./onsale stops it explicitly),
# output appended to .state/logs/NAME.log, pid in .state/run/NAME.pid.
start_bg() {
  local name=$1
  shift
  printf '\n=== %s starting: %s\n' "$(date -Is)" "$*" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
}

bg_pid() { cat "$(pid_file "$1")" 2>/dev/null || true; }

bg_alive() { pid_alive "$(bg_pid "$1")"; }

# stop_bg NAME: SIGTERM to its process group, SIGKILL after 20s.
stop_bg() {
  local name=$1 pid i
  pid=$(bg_pid "$name")
  if [[ -n $pid ]] && group_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      group_alive "$pid" || break
      sleep 0.1
    done
    if group_alive "$pid"; then
      log "$name did not stop within 20s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$(pid_file "$name")"
}

# ---------------------------------------------------------- services ------

redis_start() {
  mkdir -p "$ONSALE_STATE/redis"
  # Redis only caches what can be rebuilt, so no persistence at all.
  start_bg redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$ONSALE_STATE/redis" \
    --appendonly no --save "" --daemonize no --protected-mode yes --loglevel warning
}
redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
redis_stop() {
  bg_alive redis || { rm -f "$(pid_file redis)"; return 0; }
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  stop_bg redis
}

# The CLI reads TEMPORAL_* variables and ~/.config; this script passes
# everything explicitly so neither can redirect it.
temporal_cli() {
  "$TEMPORAL_BIN" "$@" --disable-config-env --disable-config-file
}

temporal_start() {
  [[ -x $TEMPORAL_BIN ]] || die "Temporal CLI missing at $TEMPORAL_BIN (run scripts/install.sh)"
  mkdir -p "$ONSALE_STATE/temporal"
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --http-port "$TEMPORAL_HTTP_PORT" --db-filename "$ONSALE_STATE/temporal/temporal.db" --namespace default
    # SQLite's write-ahead log: a commit appends to one file instead of writing a rollback journal and the
    # database with their syncs; NORMAL syncs at checkpoints, which keeps every commit across a crash of
    # the server process (only an operating-system crash may lose the last ones). Workflow starts here:
    # 29/s in rollback-journal mode, 151/s in WAL mode, two fresh servers side by side.
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
    --dynamic-config-value frontend.enableUpdateWorkflowExecution=true
    --dynamic-config-value frontend.enableExecuteMultiOperation=true
    --dynamic-config-value system.enableActivityEagerExecution=true
    --log-level warn)
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  start_bg temporal "$TEMPORAL_BIN" "${args[@]}" --disable-config-env --disable-config-file
}
# Ready when the default namespace answers and lists our search attributes.
temporal_ready() {
  port_open "$TEMPORAL_PORT" || return 1
  local out
  out=$(temporal_cli operator search-attribute list --address "$LOCAL_TEMPORAL_ADDRESS" --namespace default \
    --command-timeout 5s 2>/dev/null) || return 1
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    grep -qw "${sa%%=*}" <<<"$out" || return 1
  done
}
temporal_stop() { stop_bg temporal; }

stripe_mock_start() {
  [[ -x $STRIPE_MOCK_BIN ]] || die "stripe-mock missing at $STRIPE_MOCK_BIN (run scripts/install.sh)"
  start_bg stripe-mock "$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$STRIPE_HTTP_PORT" -https-addr "127.0.0.1:$STRIPE_HTTPS_PORT"
}
stripe_mock_ready() {
  curl -fsS -o /dev/null --max-time 3 -u "$LOCAL_STRIPE_SECRET_KEY:" "$LOCAL_STRIPE_API_URL/v1/customers?limit=1" 2>/dev/null
}
stripe_mock_stop() { stop_bg stripe-mock; }

mailpit_start() {
  [[ -x $MAILPIT_BIN ]] || die "Mailpit missing at $MAILPIT_BIN (run scripts/install.sh)"
  mkdir -p "$ONSALE_STATE/mailpit"
  # Accept any SMTP credentials so a configuration with a user and password works unchanged.
  start_bg mailpit "$MAILPIT_BIN" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" --smtp "127.0.0.1:$SMTP_PORT" \
    --database "$ONSALE_STATE/mailpit/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --disable-version-check
}
mailpit_ready() { curl -fsS -o /dev/null --max-time 3 "$LOCAL_MAILPIT_API_URL/readyz" 2>/dev/null; }
mailpit_stop() { stop_bg mailpit; }

fn_name() { echo "${1//-/_}"; }

# service_alive SERVICE: our process for it exists.
service_alive() {
  case $1 in
    postgres) postgres_alive ;;
    *) bg_alive "$1" ;;
  esac
}

service_log() {
  if [[ $1 == postgres ]]; then echo "$PG_LOG"; else echo "$LOGS/$1.log"; fi
}

# start_service SERVICE: starts it unless it is already running. Returns
# without waiting; wait_service does that, so services start in parallel.
start_service() {
  local svc=$1 port
  port=$(service_port "$svc")
  if service_alive "$svc"; then
    return 0
  fi
  if port_open "$port"; then
    local who
    who=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true)
    die "$svc: port $port on 127.0.0.1 is already in use by another process ${who:-} — stop it, or point $(service_var "$svc") at it to use it as an external service"
  fi
  log "$svc: starting (log: $(service_log "$svc"))"
  "$(fn_name "$svc")_start"
  STARTED+=("$svc")
  [[ -n ${ONSALE_STARTED_FILE:-} ]] && echo "$svc" >>"$ONSALE_STARTED_FILE"
  return 0
}

wait_service() {
  local svc=$1 deadline ready_fn
  ready_fn="$(fn_name "$svc")_ready"
  deadline=$((SECONDS + START_TIMEOUT))
  until "$ready_fn"; do
    if ! service_alive "$svc"; then
      log_tail "$(service_log "$svc")"
      die "$svc exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$(service_log "$svc")"
      die "$svc did not become ready within ${START_TIMEOUT}s (ONSALE_START_TIMEOUT raises the limit)"
    fi
    sleep 0.2
  done
  [[ $svc == postgres ]] && postgres_bootstrap
  return 0
}

stop_service() {
  local svc=$1
  if is_external "$svc"; then
    return 0
  fi
  if service_alive "$svc"; then
    log "$svc: stopping"
  fi
  "$(fn_name "$svc")_stop"
}

# ------------------------------------------------------------- secrets ------

SECRET_VARS=(ADMIN_TOKEN BUYER_TOKEN_SECRET ADMISSION_TOKEN_SECRET STRIPE_WEBHOOK_SECRET)

random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# Development secrets are generated once and kept in .state/secrets.env (mode
# 600); a value set in the environment wins over the file.
ensure_secrets() {
  local var value
  (
    umask 077
    touch "$SECRETS_ENV"
  )
  chmod 600 "$SECRETS_ENV"
  for var in "${SECRET_VARS[@]}"; do
    grep -q "^$var=" "$SECRETS_ENV" && continue
    value=$(random_hex)
    [[ $var == STRIPE_WEBHOOK_SECRET ]] && value=whsec_$value
    echo "$var=$value" >>"$SECRETS_ENV"
  done
}

secret_value() {
  local var=$1
  if [[ -n ${!var:-} ]]; then
    echo "${!var}"
  else
    grep "^$var=" "$SECRETS_ENV" | head -n 1 | cut -d= -f2-
  fi
}

# ----------------------------------------------------------------- env ------

emit() { [[ -n ${2:-} ]] && printf 'export %s=%q\n' "$1" "$2"; return 0; }

render_env() {
  local api_port=${API_PORT:-3000}
  echo "# onsale: connection settings of the running stack, written by scripts/stack.sh."
  echo "# Use: source .state/stack.env"
  if is_external postgres; then
    emit DATABASE_URL "$DATABASE_URL"
    emit TEST_DATABASE_URL "${TEST_DATABASE_URL:-}"
  else
    emit DATABASE_URL "$LOCAL_DATABASE_URL"
    emit TEST_DATABASE_URL "$LOCAL_TEST_DATABASE_URL"
  fi
  if is_external redis; then emit REDIS_URL "$REDIS_URL"; else emit REDIS_URL "$LOCAL_REDIS_URL"; fi
  if is_external temporal; then
    emit TEMPORAL_ADDRESS "$TEMPORAL_ADDRESS"
    emit TEMPORAL_NAMESPACE "${TEMPORAL_NAMESPACE:-default}"
    emit TEMPORAL_UI_URL "${TEMPORAL_UI_URL:-}"
  else
    emit TEMPORAL_ADDRESS "$LOCAL_TEMPORAL_ADDRESS"
    emit TEMPORAL_NAMESPACE default
    emit TEMPORAL_UI_URL "$LOCAL_TEMPORAL_UI_URL"
  fi
  if is_external stripe-mock; then
    emit STRIPE_SECRET_KEY "$STRIPE_SECRET_KEY"
    emit STRIPE_API_URL "${STRIPE_API_URL:-}"
  else
    emit STRIPE_SECRET_KEY "$LOCAL_STRIPE_SECRET_KEY"
    emit STRIPE_API_URL "$LOCAL_STRIPE_API_URL"
  fi
  if is_external mailpit; then
    emit SMTP_URL "$SMTP_URL"
    emit MAILPIT_API_URL "${MAILPIT_API_URL:-}"
  else
    emit SMTP_URL "$LOCAL_SMTP_URL"
    emit MAILPIT_API_URL "$LOCAL_MAILPIT_API_URL"
  fi
  emit MAIL_FROM "${MAIL_FROM:-onsale <tickets@onsale.localhost>}"
  local var
  for var in "${SECRET_VARS[@]}"; do emit "$var" "$(secret_value "$var")"; done
  emit API_PORT "$api_port"
  emit PUBLIC_BASE_URL "${PUBLIC_BASE_URL:-http://127.0.0.1:$api_port}"
  # Left to the application's defaults unless set by the caller.
  for var in PAYMENT_PROVIDER ONSALE_MODE LOG_LEVEL; do emit "$var" "${!var:-}"; done
  emit TEMPORAL_TEST_SERVER_PATH "${TEMPORAL_TEST_SERVER_PATH:-$TEMPORAL_TEST_SERVER_BIN}"
}

write_env() {
  ensure_secrets
  local tmp=$STACK_ENV.tmp.$$
  (
    umask 077
    render_env >"$tmp"
  )
  mv "$tmp" "$STACK_ENV"
}

# ------------------------------------------------------------ commands ------

validate_services() {
  local s
  for s in "$@"; do service_var "$s" >/dev/null; done
}

# select_services [service...]: the named services (default all), validated,
# in dependency order (Postgres first) whatever order they were given in.
select_services() {
  local s
  for s in "${SERVICES[@]}"; do
    if (($# == 0)) || [[ " $* " == *" $s "* ]]; then echo "$s"; fi
  done
}

cmd_up() {
  local svcs svc start
  validate_services "$@"
  mapfile -t svcs < <(select_services "$@")
  STARTED=()
  start=$(now_ms)
  for svc in "${svcs[@]}"; do
    if is_external "$svc"; then
      log "$svc: external ($(service_var "$svc") is set), not starting it"
      continue
    fi
    start_service "$svc"
  done
  for svc in "${svcs[@]}"; do
    is_external "$svc" || wait_service "$svc"
  done
  write_env
  if ((${#STARTED[@]})); then
    log "started ${STARTED[*]} in $(($(now_ms) - start))ms; settings in $STACK_ENV"
  else
    log "stack already up; settings in $STACK_ENV"
  fi
}

cmd_down() {
  local svcs i
  validate_services "$@"
  mapfile -t svcs < <(select_services "$@")
  # Reverse order: the services that use Postgres stop before it.
  for ((i = ${#svcs[@]} - 1; i >= 0; i--)); do stop_service "${svcs[i]}"; done
}

cmd_status() {
  local svc state rc=0
  for svc in "${SERVICES[@]}"; do
    if is_external "$svc"; then
      state=external
    elif service_alive "$svc" && "$(fn_name "$svc")_ready"; then
      state=up
    elif service_alive "$svc"; then
      state=starting
      rc=1
    else
      state=down
      rc=1
    fi
    printf '%-12s %-9s %s\n' "$svc" "$state" "$(service_url "$svc")"
  done
  return $rc
}

cmd_env() {
  write_env
  cat "$STACK_ENV"
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    up | start) cmd_up "$@" ;;
    down | stop) cmd_down "$@" ;;
    restart)
      (($#)) || die "restart which service? (${SERVICES[*]})"
      cmd_down "$@"
      cmd_up "$@"
      ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
      echo "usage: $0 up|down|status|env|start|stop|restart [service...]  (services: ${SERVICES[*]})" >&2
      exit 2
      ;;
  esac
}

# Run as a command; scripts/cluster.sh sources this file for its helpers.
[[ ${BASH_SOURCE[0]} != "$0" ]] || main "$@"
