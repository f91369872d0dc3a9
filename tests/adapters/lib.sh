# tests/adapters/lib.sh: shared steps of the adapter tests. Sourced.
#
# Each test starts its own broker (with the project's schemas, on a free
# port, with a database prefix of its own), its own upstream server and its
# own tsunagi-adapters, then checks what reached the broker through the
# broker's API and what the host reports on its status endpoint. The
# database is the ctest fixture's (TSUNAGI_TEST_DB_DIR) or, when run by
# hand without it, one started here.
#
# Programs come from the environment (set by tests/CMakeLists.txt):
# TA_BROKER, TA_HOST, TA_UPSTREAM, and the plugins TA_FHIR_SO,
# TA_TOURISM_SO, TA_CURRENCY_SO, TA_TEMPLATE_SO, TA_CRASH_SO, and TA_TOKEN
# (tsunagi-token).
set -euo pipefail
export LC_ALL=C.UTF-8

TA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TA_DATA=$TA_ROOT/tests/data/adapters
T=$(mktemp -d "${TMPDIR:-/tmp}/tsunagi-adapters-test.XXXXXX")
TA_DB=ad$$
TA_PIDS=()
TA_OWN_DB=""
TA_DB_URI=""
TA_HOST_PID=""
TA_BROKER_PID=""
TA_WAIT_S=${TA_WAIT_S:-60} # a sanitizer build on a loaded 2-core machine is slow

ta_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

ta_sanitizer_check() { # file: fail on sanitizer reports other than allowed SEGVs
    local f=$1 all segv
    [ -f "$f" ] || return 0
    all=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$f" || true)
    segv=$(grep -c 'ERROR: AddressSanitizer: SEGV' "$f" || true)
    [ "${TA_ALLOW_SEGV:-0}" = 1 ] || segv=0
    [ "$((all - segv))" -eq 0 ]
}

ta_cleanup() {
    local rc=$?
    [ -n "$TA_HOST_PID" ] && kill "$TA_HOST_PID" 2>/dev/null && wait "$TA_HOST_PID" 2>/dev/null || true
    for pid in "${TA_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${TA_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -n "$TA_OWN_DB" ] && "$TA_ROOT/scripts/mongo" stop "$T/db" >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ]; then
        for f in "$T"/*.log; do
            [ -f "$f" ] || continue
            echo "----- $(basename "$f") (last 60 lines)" >&2
            tail -n 60 "$f" >&2
        done
    fi
    rm -rf "$T"
    exit "$rc"
}
trap ta_cleanup EXIT
# A killed test (a ctest timeout, ^C) still stops what it started.
trap 'exit 143' TERM INT HUP

ta_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ta_eq ACTUAL EXPECTED WHAT
ta_eq() {
    [ "$1" = "$2" ] || ta_fail "$3: expected '$2', got '$1'"
}

# Sets TA_DB_URI, starting a database of the test's own the first time
# when there is no fixture. Not called in $(...): TA_OWN_DB must reach
# ta_cleanup, which stops that database.
ta_db_uri() {
    local dir=${TSUNAGI_TEST_DB_DIR:-}
    if [ -z "$dir" ] || [ ! -f "$dir/mongo.port" ]; then
        dir=$T/db
        if [ -z "$TA_OWN_DB" ]; then
            TA_OWN_DB=1
            "$TA_ROOT/scripts/mongo" start "$dir" --port 0 >/dev/null 2>&1 ||
                ta_fail "cannot start the database"
        fi
    fi
    TA_DB_URI="mongodb://127.0.0.1:$(cat "$dir/mongo.port")"
}

# Wait until FILE has a line matching REGEX; print the first match.
ta_wait_line() {
    local file=$1 re=$2 line=""
    for _ in $(seq $((TA_WAIT_S * 10))); do
        line=$(grep -m1 -oE "$re" "$file" 2>/dev/null || true)
        [ -n "$line" ] && { echo "$line"; return 0; }
        sleep 0.1
    done
    return 1
}

# Start a broker with the project's schemas, logging to LOG, with extra
# ARGS: ta_spawn_broker LOG ARGS...; sets TA_SPAWNED (its URL) and
# TA_SPAWNED_PID. Every broker of a test shares its database.
ta_spawn_broker() {
    local log=$1 line
    shift
    ta_db_uri
    "$TA_BROKER" -port 0 -dbURI "$TA_DB_URI" -db "$TA_DB" -logLevel INFO \
        -schemaDir "$TA_ROOT/schemas/models" -schemaMap "$TA_ROOT/tests/data/schema-map.json" \
        "$@" >"$log" 2>&1 &
    TA_SPAWNED_PID=$!
    TA_PIDS+=("$TA_SPAWNED_PID")
    line=$(ta_wait_line "$log" 'listening on port [0-9]+') || ta_fail "the broker did not start"
    TA_SPAWNED=http://127.0.0.1:${line##* }
}

# Start the broker the adapters write to; sets BROKER (its URL).
ta_start_broker() {
    ta_spawn_broker "$T/broker.log" "$@"
    BROKER=$TA_SPAWNED
    TA_BROKER_PID=$TA_SPAWNED_PID
}

# Start the upstream server with ARGS; sets UPSTREAM (its URL).
ta_start_upstream() {
    "$TA_UPSTREAM" --port 0 "$@" >"$T/upstream.out" 2>"$T/upstream.log" &
    TA_PIDS+=($!)
    local line
    line=$(ta_wait_line "$T/upstream.out" 'port [0-9]+') || ta_fail "the upstream did not start"
    UPSTREAM=http://127.0.0.1:${line#port }
}

# Start tsunagi-adapters with CONFIG; sets STATUS (its status URL).
ta_start_host() {
    # Keep the log of an earlier start (tests restart the host).
    [ -f "$T/host.log" ] && cat "$T/host.log" >>"$T/host-earlier.log" && rm "$T/host.log"
    "$TA_HOST" "$1" >"$T/host.out" 2>"$T/host.log" &
    TA_HOST_PID=$!
    local line
    line=$(ta_wait_line "$T/host.log" 'status on http://[0-9.]+:[0-9]+') ||
        ta_fail "tsunagi-adapters did not start"
    STATUS=${line#status on }/status
}

# Stop the host with SIGTERM; it must exit 0 and leave no sanitizer report.
ta_stop_host() {
    kill "$TA_HOST_PID"
    local rc=0
    wait "$TA_HOST_PID" || rc=$?
    TA_HOST_PID=""
    [ "$rc" -eq 0 ] || ta_fail "tsunagi-adapters exited with $rc after SIGTERM"
    ta_sanitizer_check "$T/host.log" || ta_fail "sanitizer report in the host's log"
}

# Stop the broker (or the one with PID): it must exit 0 (no crash, no leak).
ta_stop_broker() {
    local pid=${1:-$TA_BROKER_PID} rc=0
    kill "$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || ta_fail "the broker $pid exited with $rc after SIGTERM"
}

# The status of adapter NAME (JSON).
ta_status() { curl -sf "$STATUS/$1"; }

# Wait until jq FILTER is true of adapter NAME's status; print the status.
ta_wait_status() {
    local name=$1 filter=$2 st=""
    for _ in $(seq $((TA_WAIT_S * 10))); do
        st=$(ta_status "$name" || true)
        if [ -n "$st" ] && [ "$(jq -r "$filter" <<<"$st")" = true ]; then
            echo "$st"
            return 0
        fi
        sleep 0.1
    done
    ta_fail "adapter $name: $filter never held (status: $st)"
}

# Wait until adapter NAME has at least N runs; print its status.
ta_wait_runs() {
    local name=$1 n=$2 st=""
    for _ in $(seq $((TA_WAIT_S * 10))); do
        st=$(ta_status "$name" || true)
        if [ -n "$st" ] && [ "$(jq -r .runs <<<"$st")" -ge "$n" ]; then
            echo "$st"
            return 0
        fi
        sleep 0.1
    done
    ta_fail "adapter $name did not complete $n runs (status: $st)"
}

# Broker GET with tenant (Fiware-Service) and path: ta_get TENANT PATH URL...
ta_get() {
    local tenant=$1 spath=$2
    shift 2
    curl -sf -H "Fiware-Service: $tenant" -H "Fiware-ServicePath: $spath" "$BROKER$1"
}

# Link an upstream id to a common ID: ta_link TENANT SYSTEM VALUE COMMON_ID
ta_link() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Fiware-Service: $1" \
        -H 'Content-Type: application/json' -d "{\"commonId\":\"$4\"}" \
        "$BROKER/tsunagi/idlinks/$2/$3")
    [ "$code" = 201 ] || [ "$code" = 204 ] || ta_fail "linking $2/$3 answered $code"
}

# Set a fault on the upstream: ta_fault MODE PATH COUNT [DELAY [AFTER]]
ta_fault() {
    curl -sf -X POST -H 'Content-Type: application/json' \
        -d "{\"mode\":\"$1\",\"path\":\"$2\",\"count\":$3,\"delay\":${4:-0},\"after\":${5:-0}}" \
        "$UPSTREAM/_admin/fault" >/dev/null || ta_fail "cannot set the fault"
}
