#!/usr/bin/env bash
# The local real-engine stack: provisions Redis, FerretDB, mongo-java-server, Cassandra and OpenSearch from
# package registries (apt, Go module proxy, Maven Central) and runs them on loopback with data under .stack/.
#
#   bash scripts/stack/stack.sh up [engine...]      provision (cached) and start; waits until each answers
#   bash scripts/stack/stack.sh down [engine...]    stop the engines this script started (PID files in .stack/)
#   bash scripts/stack/stack.sh status [--check] [engine...]  state, pid, port, RSS (--check: fail unless all ready)
#   bash scripts/stack/stack.sh env [--all]         export lines for the running engines (--all: every engine)
#   bash scripts/stack/stack.sh logs <engine>       last log lines of one engine
#
# Engines: redis ferretdb mongo-java cassandra opensearch (aliases: mongo = ferretdb + mongo-java).
# See scripts/stack/README.md for the environment variables (ports, heaps, versions, cache dir).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
STATE=${EMPORIUM_STACK_DIR:-$ROOT/.stack}
CACHE=${EMPORIUM_STACK_CACHE:-$HOME/.cache/emporium-stack}
HOST=127.0.0.1
TIMEOUT=${STACK_TIMEOUT:-240}

REDIS_PORT=${STACK_REDIS_PORT:-6379}
FERRETDB_PORT=${STACK_FERRETDB_PORT:-27017}
MONGO_JAVA_PORT=${STACK_MONGO_JAVA_PORT:-27018}
CASSANDRA_PORT=${STACK_CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${STACK_CASSANDRA_STORAGE_PORT:-7000}
OPENSEARCH_PORT=${STACK_OPENSEARCH_PORT:-9200}
OPENSEARCH_TRANSPORT_PORT=${STACK_OPENSEARCH_TRANSPORT_PORT:-9300}

CASSANDRA_HEAP=${STACK_CASSANDRA_HEAP:-1g}
OPENSEARCH_HEAP=${STACK_OPENSEARCH_HEAP:-512m}
MONGO_JAVA_HEAP=${STACK_MONGO_JAVA_HEAP:-256m}
MONGO_JAVA_BACKEND=${STACK_MONGO_JAVA_BACKEND:-h2}

FERRETDB_VERSION=${STACK_FERRETDB_VERSION:-v1.24.2}
CASSANDRA_VERSION=${STACK_CASSANDRA_VERSION:-5.0.9}
OPENSEARCH_VERSION=${STACK_OPENSEARCH_VERSION:-2.19.6}
MONGO_JAVA_VERSION=${STACK_MONGO_JAVA_VERSION:-1.47.0}
CASSANDRA_DC=datacenter1

ALL_ENGINES=(redis cassandra opensearch mongo-java ferretdb)

# ---------------------------------------------------------------------------------------------- helpers

log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}
now() { date +%s; }

port_of() {
  case $1 in
  redis) echo "$REDIS_PORT" ;;
  ferretdb) echo "$FERRETDB_PORT" ;;
  mongo-java) echo "$MONGO_JAVA_PORT" ;;
  cassandra) echo "$CASSANDRA_PORT" ;;
  opensearch) echo "$OPENSEARCH_PORT" ;;
  esac
}

# A word that the engine's command line must contain: guards against a recycled PID.
marker_of() {
  case $1 in
  redis) echo "redis-server" ;;
  ferretdb) echo "ferretdb" ;;
  mongo-java) echo "EmporiumMongoJavaServer" ;;
  cassandra) echo "org.apache.cassandra.service.CassandraDaemon" ;;
  opensearch) echo "EmporiumOpenSearch" ;;
  esac
}

pidfile_of() { echo "$STATE/$1/$1.pid"; }
logfile_of() { echo "$STATE/$1/$1.log"; }

# Prints the PID of the engine this script started, if it is alive; fails otherwise.
engine_pid() {
  local pidfile pid
  pidfile=$(pidfile_of "$1")
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker_of "$1")" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

http_get() { # port path -> response (headers and body) on stdout
  (
    exec 3<>"/dev/tcp/$HOST/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$2" "$HOST" "$1" >&3
    timeout 5 cat <&3
  ) 2>/dev/null
}

rss_of() { # pid -> "123 MiB"
  awk '/^VmRSS:/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED=0
apt_install() { # packages...
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED == 0 ]]; then
    as_root apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  # Keep the package's own service from starting (it would take the port with another configuration).
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy" && added=1
  fi
  local rc=0
  mkdir -p "$CACHE/build"
  as_root apt-get install -y -q --no-install-recommends "$@" >"$CACHE/build/apt.log" 2>&1 || rc=$?
  if [[ $added == 1 ]]; then as_root rm -f "$policy"; fi
  if [[ $rc != 0 ]]; then
    tail -n 30 "$CACHE/build/apt.log" >&2
    die "apt-get install $* failed (log: $CACHE/build/apt.log)"
  fi
}

JAVA_BIN=""
JAVAC_BIN=""
find_java17() {
  [[ -n $JAVA_BIN ]] && return 0
  local home candidates=()
  [[ -n ${STACK_JAVA_HOME:-} ]] && candidates+=("$STACK_JAVA_HOME")
  [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64)
  for home in "${candidates[@]}"; do
    if [[ -x $home/bin/java && -x $home/bin/javac ]] && "$home/bin/java" -version 2>&1 | grep -q 'version "17'; then
      JAVA_BIN=$home/bin/java JAVAC_BIN=$home/bin/javac
      return 0
    fi
  done
  if command -v java >/dev/null && command -v javac >/dev/null && java -version 2>&1 | grep -q 'version "17'; then
    JAVA_BIN=$(command -v java) JAVAC_BIN=$(command -v javac)
    return 0
  fi
  apt_install openjdk-17-jdk-headless
  JAVA_BIN=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)/bin/java
  JAVAC_BIN=${JAVA_BIN%java}javac
  [[ -x $JAVA_BIN ]] || die "no Java 17 JDK found (set STACK_JAVA_HOME)"
}

need_mvn() { command -v mvn >/dev/null || apt_install maven; }

# mvn_copy <name> <pom> <libdir> [-Dprop=value...]: resolves the pom's runtime dependencies into libdir.
mvn_copy() {
  local name=$1 pom=$2 lib=$3
  shift 3
  local work=$CACHE/build/$name
  mkdir -p "$work"
  cp "$pom" "$work/pom.xml"
  rm -rf "$lib.tmp"
  log "$name: resolving jars from Maven Central into $lib (first time only)"
  local t0
  t0=$(now)
  if ! (cd "$work" && mvn -B -q -Dmaven.repo.local="$CACHE/m2" "$@" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$lib.tmp" >"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    die "$name: maven resolution failed (log: $work/mvn.log)"
  fi
  rm -rf "$lib"
  mv "$lib.tmp" "$lib"
  log "$name: $(find "$lib" -name '*.jar' | wc -l) jars, $(du -sh "$lib" | cut -f1), $(($(now) - t0))s"
}

# javac_build <name> <source> <classpath> <outdir>: compiles a launcher once per source content.
javac_build() {
  local name=$1 src=$2 cp=$3 out=$4 sum
  sum=$(sha256sum "$src" | cut -c1-16)
  if [[ -f $out/.source-$sum ]]; then return 0; fi
  log "$name: compiling $(basename "$src")"
  rm -rf "$out"
  mkdir -p "$out"
  "$JAVAC_BIN" --release 17 -nowarn -d "$out" -cp "$cp" "$src" >&2 || die "$name: javac failed"
  touch "$out/.source-$sum"
}

rotate_log() {
  local f=$1
  [[ -f $f ]] && mv -f "$f" "$f.1"
  : >"$f"
}

# start_detached <engine> <command...>: runs the command in its own session, output to the engine's log.
start_detached() {
  local engine=$1
  shift
  local logf
  logf=$(logfile_of "$engine")
  rotate_log "$logf"
  (cd "$STATE/$engine" && exec setsid "$@" </dev/null >>"$logf" 2>&1 9>&-) &
  echo $! >"$(pidfile_of "$engine")"
}

# ---------------------------------------------------------------------------------------------- redis

provision_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --version | grep -q 'v=7\.' || log "redis: warning: $(redis-server --version | head -c 60) is not Redis 7"
}

launch_redis() {
  local dir=$STATE/redis
  rotate_log "$dir/redis.log"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    --appendonly yes --appendfsync everysec --appenddirname appendonlydir --save '3600 1 300 100 60 10000' \
    --maxmemory 256mb --maxmemory-policy noeviction >/dev/null 9>&-
}

ready_redis() { [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

# ---------------------------------------------------------------------------------------------- ferretdb

FERRETDB_BIN=$CACHE/bin/ferretdb
ferretdb_built() { [[ -x $FERRETDB_BIN ]] && "$FERRETDB_BIN" --version 2>/dev/null | grep -q "version: $FERRETDB_VERSION"; }

provision_ferretdb() {
  if ferretdb_built; then return 0; fi
  command -v go >/dev/null || die "ferretdb: Go is not installed (it is built with go from the Go module proxy)"
  export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local
  local t0 src dir
  t0=$(now)
  log "ferretdb: building $FERRETDB_VERSION with go (first time only; ~1-3 min)"
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@VERSION` builds a binary that panics at start-up: the module
  # zip lacks the generated build/version/version.txt. So: download the same module, add that file, build it.
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $dir && -d $dir ]] || die "ferretdb: go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed"
  src=$CACHE/build/ferretdb-src
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  mkdir -p "$CACHE/bin"
  (cd "$src" && go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) || die "ferretdb: go build failed"
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$src" "$CACHE/go" # module and build caches (~1.5 GB) only speed up a rebuild: keep the binary alone
  log "ferretdb: built $("$FERRETDB_BIN" --version | head -1) in $(($(now) - t0))s"
}

launch_ferretdb() {
  mkdir -p "$STATE/ferretdb/data" "$STATE/ferretdb/state"
  start_detached ferretdb "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$STATE/ferretdb/data/" \
    --listen-addr="$HOST:$FERRETDB_PORT" --state-dir="$STATE/ferretdb/state" --debug-addr=- \
    --telemetry=disable --log-level=info
}

ready_ferretdb() { port_open "$FERRETDB_PORT"; }

# ---------------------------------------------------------------------------------------------- mongo-java-server

MONGO_JAVA_CP=""
provision_mongo-java() {
  find_java17
  local base=$CACHE/mongo-java/$MONGO_JAVA_VERSION
  if [[ ! -f $base/lib/.complete ]]; then
    need_mvn
    mvn_copy mongo-java "$SCRIPT_DIR/maven/mongo-java.xml" "$base/lib" -Dmongo-java-server.version="$MONGO_JAVA_VERSION"
    touch "$base/lib/.complete"
  fi
  javac_build mongo-java "$SCRIPT_DIR/java/EmporiumMongoJavaServer.java" "$base/lib/*" "$base/classes"
  MONGO_JAVA_CP="$base/classes:$base/lib/*"
}

launch_mongo-java() {
  start_detached mongo-java "$JAVA_BIN" -Xms64m -Xmx"$MONGO_JAVA_HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    -Demporium.mongo.host="$HOST" -Demporium.mongo.port="$MONGO_JAVA_PORT" \
    -Demporium.mongo.backend="$MONGO_JAVA_BACKEND" -Demporium.mongo.file="$STATE/mongo-java/data.mv" \
    -cp "$MONGO_JAVA_CP" EmporiumMongoJavaServer
}

ready_mongo-java() { port_open "$MONGO_JAVA_PORT"; }

# ---------------------------------------------------------------------------------------------- cassandra

CASSANDRA_LIB=""
provision_cassandra() {
  find_java17
  CASSANDRA_LIB=$CACHE/cassandra/$CASSANDRA_VERSION/lib
  if [[ ! -f $CASSANDRA_LIB/.complete ]]; then
    need_mvn
    mvn_copy cassandra "$SCRIPT_DIR/maven/cassandra.xml" "$CASSANDRA_LIB" -Dcassandra.version="$CASSANDRA_VERSION"
    touch "$CASSANDRA_LIB/.complete"
  fi
}

write_cassandra_config() {
  local d=$STATE/cassandra
  mkdir -p "$d/data" "$d/commitlog" "$d/saved_caches" "$d/hints" "$d/cdc_raw" "$d/triggers" "$d/conf"
  cat >"$d/conf/cassandra.yaml" <<EOF
# Generated by scripts/stack/stack.sh: a single-node Cassandra $CASSANDRA_VERSION on loopback (5.0 key names).
cluster_name: emporium-local
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$HOST:$CASSANDRA_STORAGE_PORT"
listen_address: $HOST
rpc_address: $HOST
storage_port: $CASSANDRA_STORAGE_PORT
start_native_transport: true
native_transport_port: $CASSANDRA_PORT
data_file_directories:
  - $d/data
commitlog_directory: $d/commitlog
saved_caches_directory: $d/saved_caches
hints_directory: $d/hints
cdc_raw_directory: $d/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
storage_compatibility_mode: NONE
file_cache_size: 128MiB
key_cache_size: 16MiB
concurrent_compactors: 1
EOF
  cat >"$d/conf/logback.xml" <<'EOF'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
EOF
}

launch_cassandra() {
  write_cassandra_config
  local d=$STATE/cassandra jamm
  jamm=$(find "$CASSANDRA_LIB" -name 'jamm-*.jar' | head -n 1)
  # JVM flags: Cassandra's conf/jvm-server.options and conf/jvm17-server.options (GC, JPMS exports/opens, Netty).
  local jvm=(
    -Xms"${STACK_CASSANDRA_HEAP_MIN:-256m}" -Xmx"$CASSANDRA_HEAP" -Xss256k -XX:MaxDirectMemorySize=512m
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
    -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$d" -XX:+ExitOnOutOfMemoryError
    -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem
    -Djava.net.preferIPv4Stack=true -Djava.rmi.server.hostname="$HOST"
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    -javaagent:"$jamm"
    -Dcassandra.config="file://$d/conf/cassandra.yaml" -Dlogback.configurationFile="file://$d/conf/logback.xml"
    -Dcassandra.storagedir="$d" -Dcassandra.logdir="$d" -Dcassandra.triggers_dir="$d/triggers"
    -Dcassandra.ring_delay_ms="${STACK_CASSANDRA_RING_DELAY_MS:-1000}" -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra-foreground=yes
  )
  start_detached cassandra "$JAVA_BIN" "${jvm[@]}" -cp "$CASSANDRA_LIB/*" org.apache.cassandra.service.CassandraDaemon
}

ready_cassandra() {
  grep -q 'Starting listening for CQL clients' "$(logfile_of cassandra)" 2>/dev/null && port_open "$CASSANDRA_PORT"
}

# ---------------------------------------------------------------------------------------------- opensearch

OPENSEARCH_CP=""
provision_opensearch() {
  find_java17
  local base=$CACHE/opensearch/$OPENSEARCH_VERSION
  if [[ ! -f $base/lib/.complete ]]; then
    need_mvn
    mvn_copy opensearch "$SCRIPT_DIR/maven/opensearch.xml" "$base/lib" -Dopensearch.version="$OPENSEARCH_VERSION"
    touch "$base/lib/.complete"
  fi
  javac_build opensearch "$SCRIPT_DIR/java/EmporiumOpenSearch.java" "$base/lib/*" "$base/classes"
  OPENSEARCH_CP="$base/classes:$base/lib/*"
}

launch_opensearch() {
  local d=$STATE/opensearch
  mkdir -p "$d/tmp"
  # JVM flags: OpenSearch's config/jvm.options for 2.x, with an explicit small heap.
  start_detached opensearch "$JAVA_BIN" -Xms"$OPENSEARCH_HEAP" -Xmx"$OPENSEARCH_HEAP" -XX:MaxDirectMemorySize=256m \
    -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 -XX:+ExitOnOutOfMemoryError \
    -Xss1m -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true -XX:-OmitStackTraceInFastThrow \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dio.netty.allocator.numDirectArenas=0 -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
    -Djava.locale.providers=SPI,CLDR -Djava.io.tmpdir="$d/tmp" -Dopensearch.path.home="$d" \
    -Demporium.os.home="$d" -Demporium.os.host="$HOST" -Demporium.os.http.port="$OPENSEARCH_PORT" \
    -Demporium.os.transport.port="$OPENSEARCH_TRANSPORT_PORT" \
    -cp "$OPENSEARCH_CP" EmporiumOpenSearch
}

ready_opensearch() { http_get "$OPENSEARCH_PORT" '/_cluster/health' | grep -qE '"status":"(green|yellow)"'; }

# ---------------------------------------------------------------------------------------------- commands

expand_engines() { # args -> engine names on stdout, in start order
  local want=() e a
  [[ $# == 0 ]] && set -- "${ALL_ENGINES[@]}"
  for a in "$@"; do
    case $a in
    all) want+=("${ALL_ENGINES[@]}") ;;
    mongo | mongodb) want+=(ferretdb mongo-java) ;;
    redis | ferretdb | mongo-java | cassandra | opensearch) want+=("$a") ;;
    *) die "unknown engine '$a' (engines: ${ALL_ENGINES[*]}, mongo, all)" ;;
    esac
  done
  for e in "${ALL_ENGINES[@]}"; do
    for a in "${want[@]}"; do
      if [[ $a == "$e" ]]; then
        echo "$e"
        break
      fi
    done
  done
}

ENGINES=()
select_engines() { # args -> ENGINES (exits on an unknown name)
  local list
  list=$(expand_engines "$@") || exit 2
  mapfile -t ENGINES <<<"$list"
}

print_log_tail() {
  local f
  f=$(logfile_of "$1")
  log "$1: last lines of $f:"
  tail -n "${STACK_LOG_LINES:-40}" "$f" 2>/dev/null | sed 's/^/    /' >&2 || true
}

cmd_up() {
  local engines=() e pid failed=0 t0 started=()
  select_engines "$@"
  engines=("${ENGINES[@]}")
  mkdir -p "$STATE" "$CACHE"
  # One `up` at a time; the engines are started with this descriptor closed, so the lock ends with this command.
  exec 9>"$STATE/up.lock"
  if ! flock -n 9; then
    log "waiting for another 'stack.sh up' to finish"
    flock -w "$TIMEOUT" 9 || die "another stack command holds $STATE/up.lock"
  fi
  local t_all build_pid=""
  t_all=$(now)
  # The Go build of FerretDB is the slowest step of a cold start: run it alongside the Maven downloads.
  if [[ " ${engines[*]} " == *" ferretdb "* ]] && ! engine_pid ferretdb >/dev/null && ! ferretdb_built; then
    command -v go >/dev/null || die "ferretdb: Go is not installed (it is built with go from the Go module proxy)"
    mkdir -p "$CACHE/build"
    log "ferretdb: building $FERRETDB_VERSION with go in the background (first time only; log: $CACHE/build/ferretdb.log)"
    (provision_ferretdb 9>&-) >"$CACHE/build/ferretdb.log" 2>&1 &
    build_pid=$!
  fi
  for e in "${engines[@]}"; do
    mkdir -p "$STATE/$e"
    if pid=$(engine_pid "$e"); then
      log "$e: already running (pid $pid), left alone"
      started+=("$e")
      continue
    fi
    t0=$(now)
    if [[ $e == ferretdb && -n $build_pid ]]; then
      log "ferretdb: waiting for the go build"
      if ! wait "$build_pid"; then
        tail -n 30 "$CACHE/build/ferretdb.log" >&2
        log "ferretdb: ERROR: the build failed (log: $CACHE/build/ferretdb.log)"
        failed=1
        continue
      fi
      grep '^\[stack\]' "$CACHE/build/ferretdb.log" | tail -n 1 >&2
    fi
    "provision_$e"
    if port_open "$(port_of "$e")"; then
      log "$e: ERROR: $HOST:$(port_of "$e") is taken by a process this stack did not start (override the port, see README)"
      failed=1
      continue
    fi
    log "$e: starting on $HOST:$(port_of "$e")"
    "launch_$e"
    started+=("$e")
  done
  for e in "${started[@]}"; do
    t0=$(now)
    while ! "ready_$e"; do
      if ! engine_pid "$e" >/dev/null; then
        log "$e: ERROR: the process exited before it answered"
        print_log_tail "$e"
        failed=1
        continue 2
      fi
      if (($(now) - t0 > TIMEOUT)); then
        log "$e: ERROR: no answer on $HOST:$(port_of "$e") after ${TIMEOUT}s"
        print_log_tail "$e"
        failed=1
        continue 2
      fi
      sleep 0.5
    done
    pid=$(engine_pid "$e")
    log "$e: ready on $HOST:$(port_of "$e") (pid $pid, waited $(($(now) - t0))s, RSS $(rss_of "$pid"))"
  done
  log "up: done in $(($(now) - t_all))s"
  ((failed == 0)) || die "some engines did not start; see above"
}

cmd_down() {
  local engines=() e pid i
  select_engines "$@"
  engines=("${ENGINES[@]}")
  for ((i = ${#engines[@]} - 1; i >= 0; i--)); do
    e=${engines[i]}
    if ! pid=$(engine_pid "$e"); then
      log "$e: not running"
      rm -f "$(pidfile_of "$e")"
      continue
    fi
    log "$e: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for e in "${engines[@]}"; do
    pid=$(tr -dc '0-9' <"$(pidfile_of "$e")" 2>/dev/null) || continue
    [[ -n $pid ]] || continue
    for i in $(seq 1 120); do
      [[ -d /proc/$pid ]] || break
      sleep 0.5
    done
    if [[ -d /proc/$pid ]] && engine_pid "$e" >/dev/null; then
      log "$e: still alive after 60s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pidfile_of "$e")"
    log "$e: stopped"
  done
}

cmd_status() {
  local engines=() e pid state any_down=0 check=0
  if [[ ${1:-} == --check ]]; then
    check=1
    shift
  fi
  select_engines "$@"
  engines=("${ENGINES[@]}")
  printf '%-11s %-9s %-8s %-16s %s\n' ENGINE STATE PID ADDRESS RSS
  for e in "${engines[@]}"; do
    if pid=$(engine_pid "$e"); then
      if "ready_$e"; then state=ready; else
        state=starting
        any_down=1
      fi
      printf '%-11s %-9s %-8s %-16s %s\n' "$e" "$state" "$pid" "$HOST:$(port_of "$e")" "$(rss_of "$pid")"
    else
      any_down=1
      printf '%-11s %-9s %-8s %-16s %s\n' "$e" stopped - "$HOST:$(port_of "$e")" -
    fi
  done
  ((check == 0 || any_down == 0))
}

cmd_env() {
  local all=0
  [[ ${1:-} == --all ]] && all=1
  emit() { # engine line...
    local e=$1
    shift
    if [[ $all == 1 ]] || engine_pid "$e" >/dev/null; then
      printf '%s\n' "$@"
    else
      printf '# %s is not running (bash scripts/stack/stack.sh up %s)\n' "$e" "$e"
    fi
  }
  emit redis "export REDIS_URL=redis://$HOST:$REDIS_PORT"
  emit ferretdb "export MONGODB_URL=mongodb://$HOST:$FERRETDB_PORT/emporium"
  emit mongo-java "export MONGODB_URL_JAVA=mongodb://$HOST:$MONGO_JAVA_PORT/emporium"
  emit opensearch "export OPENSEARCH_URL=http://$HOST:$OPENSEARCH_PORT"
  emit cassandra "export CASSANDRA_CONTACT_POINTS=$HOST:$CASSANDRA_PORT" "export CASSANDRA_LOCAL_DC=$CASSANDRA_DC"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
status) cmd_status "$@" ;;
env) cmd_env "$@" ;;
logs)
  [[ $# == 1 ]] || die "usage: stack.sh logs <engine>"
  STACK_LOG_LINES=${STACK_LOG_LINES:-80} print_log_tail "$1"
  ;;
*)
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  [[ $cmd == help || $cmd == -h || $cmd == --help ]] || exit 2
  ;;
esac
