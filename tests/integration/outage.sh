#!/usr/bin/env bash
# tests/integration/outage.sh BROKER: the database goes away and comes back.
#
# While MongoDB is unreachable, requests must fail with a 503 NGSI error
# within about the configured -dbTimeout (not hang), and once it is back the
# broker must serve again without a restart. Uses its own database instance
# so that stopping it disturbs no other test.
set -euo pipefail
broker=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
bpid=""
cleanup() {
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null || true
    "$root/scripts/mongo" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
# A killed test (a ctest timeout, ^C) still stops what it started.
trap 'exit 143' TERM INT HUP
fail() { echo "FAIL: $*" >&2; cat "$dir/broker.log" >&2 || true; exit 1; }

"$root/scripts/mongo" start "$dir" --port 0 >/dev/null 2>&1
dbport=$(cat "$dir/mongo.port")
# Port 0: the broker picks a free port and names it in its first log line.
"$broker" -port 0 -dbURI "mongodb://127.0.0.1:$dbport" -db outage -dbTimeout 500 \
    -logLevel INFO >"$dir/broker.log" 2>&1 &
bpid=$!
bport=""
for _ in $(seq 300); do
    bport=$(grep -m1 -o 'listening on port [0-9]*' "$dir/broker.log" | grep -o '[0-9]*$' || true)
    [ -n "$bport" ] && break
    sleep 0.1
done
[ -n "$bport" ] || fail "the broker did not start"
url=http://127.0.0.1:$bport

code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/entities" -H 'Content-Type: application/json' \
    -d '{"id":"E1","type":"T"}')
[ "$code" = 201 ] || fail "create before the outage answered $code"

"$root/scripts/mongo" stop "$dir" >/dev/null
start=$(date +%s%N)
body=$(curl -s -w ' %{http_code}' --max-time 20 "$url/v2/entities/E1")
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
case $body in
*'"error":"ServiceUnavailable"'*' 503') ;;
*) fail "during the outage expected a 503 ServiceUnavailable, got: $body" ;;
esac
# "Quickly": a request must not wait for libmongoc's 30 s default.
[ "$elapsed_ms" -lt 10000 ] || fail "the 503 took ${elapsed_ms} ms"

"$root/scripts/mongo" start "$dir" --port "$dbport" >/dev/null 2>&1
for _ in $(seq 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/entities")
    [ "$code" = 200 ] && break
    sleep 0.2
done
[ "$code" = 200 ] || fail "the broker did not recover after the database came back ($code)"

kill "$bpid"
wait "$bpid" || fail "the broker did not exit cleanly"
bpid=""
echo "outage: 503 after ${elapsed_ms} ms, recovered"
