#!/usr/bin/env bash
# tests/integration/mqtt.sh BROKER RECEIVER: MQTT notifications against a
# real Mosquitto.
#
# Starts its own mosquitto on two free loopback ports (one anonymous, one
# with a password file), the receiver subscribed to '#' on the anonymous
# one, and a broker on the test database. Checks mqtt and mqttCustom
# notifications (topic, qos, body, templates), user/passwd, GET rendering
# (passwd hidden, no lastSuccessCode for MQTT) and a refused login counted
# as a failure.
set -euo pipefail
broker=$1
receiver=$2
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
# A killed test (a ctest timeout, ^C) still stops what it started.
trap 'exit 143' TERM INT HUP
fail() {
    echo "FAIL: $*" >&2
    cat "$dir"/*.log >&2 || true
    exit 1
}
# A port nothing listens on (racy, as any such choice, but fine on a test host).
free_port() {
    local p
    while :; do
        p=$(((RANDOM % 30000) + 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

command -v mosquitto >/dev/null || { echo "mosquitto not installed; skipping"; exit 77; }
db_dir=${TSUNAGI_TEST_DB_DIR:?the db fixture sets TSUNAGI_TEST_DB_DIR}
mongo="mongodb://127.0.0.1:$(cat "$db_dir/mongo.port")"
db="mqtt$$"

mosquitto_passwd -c -b "$dir/passwd" town secret >/dev/null
# mosquitto started as root reads its files as user mosquitto
chmod 755 "$dir"
chmod 644 "$dir/passwd"
# a port chosen free may be taken by the time mosquitto binds it: retry
for attempt in 1 2 3 4 5; do
    mport=$(free_port)
    mport_auth=$(free_port)
    cat >"$dir/mosquitto.conf" <<CONF
per_listener_settings true
listener $mport 127.0.0.1
allow_anonymous true
listener $mport_auth 127.0.0.1
allow_anonymous false
password_file $dir/passwd
CONF
    mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
    mpid=$!
    sleep 0.5
    kill -0 "$mpid" 2>/dev/null && break
    [ "$attempt" = 5 ] && fail "mosquitto did not start"
done
pids+=($mpid)

# The receiver: a chosen port may be taken by the time it binds, so retry.
for attempt in 1 2 3 4 5; do
    rport=$(free_port)
    "$receiver" --port "$rport" --mqtt-port "$mport" >"$dir/receiver.log" 2>&1 &
    rpid=$!
    for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$rport/count" >/dev/null 2>&1 && break; sleep 0.1; done
    kill -0 "$rpid" 2>/dev/null && curl -fsS "http://127.0.0.1:$rport/count" >/dev/null 2>&1 && break
    kill "$rpid" 2>/dev/null || true
    [ "$attempt" = 5 ] && fail "the receiver did not start"
done
pids+=($rpid)
# The broker picks a free port itself (-port 0) and names it in its log.
"$broker" -port 0 -dbURI "$mongo" -db "$db" -logLevel INFO -notifRetries 0 \
    >"$dir/broker.log" 2>&1 &
bpid=$!
pids+=($bpid)
bport=""
for _ in $(seq 300); do
    bport=$(grep -m1 -o 'listening on port [0-9]*' "$dir/broker.log" | grep -o '[0-9]*$' || true)
    [ -n "$bport" ] && break
    kill -0 "$bpid" 2>/dev/null || fail "the broker exited at start"
    sleep 0.1
done
[ -n "$bport" ] || fail "the broker did not start"
url=http://127.0.0.1:$bport
rurl=http://127.0.0.1:$rport

post() { curl -s -o /dev/null -w '%{http_code} %header{location}' "$url$1" -H 'Content-Type: application/json' -d "$2"; }

out=$(post /v2/subscriptions '{"subject":{"entities":[{"id":"E1"}]},"notification":{"mqtt":{"url":"mqtt://127.0.0.1:'"$mport_auth"'","topic":"town/rooms","qos":1,"user":"town","passwd":"secret"},"attrsFormat":"keyValues"}}')
[[ $out == "201 /v2/subscriptions/"* ]] || fail "create mqtt subscription: $out"
sub=${out##*/}
out=$(post /v2/subscriptions '{"subject":{"entities":[{"id":"E1"}]},"notification":{"mqttCustom":{"url":"mqtt://127.0.0.1:'"$mport"'","topic":"town/${id}","payload":"A is ${A}"}}}')
[[ $out == "201 "* ]] || fail "create mqttCustom subscription: $out"
out=$(post /v2/subscriptions '{"subject":{"entities":[{"id":"E1"}]},"notification":{"mqtt":{"url":"mqtt://127.0.0.1:'"$mport_auth"'","topic":"town/denied","user":"town","passwd":"wrong"}}}')
[[ $out == "201 "* ]] || fail "create denied subscription: $out"
bad=${out##*/}

out=$(post /v2/entities '{"id":"E1","type":"Room","A":{"value":21.5,"type":"Number"}}')
[[ $out == "201 "* ]] || fail "create entity: $out"

dump=$(curl -s "$rurl/dump?wait=2&timeout=5000") || fail "the receiver does not answer"
expected_kv='{"method":"MQTT","path":"town/rooms","query":"","headers":{"qos":"1","retain":"false"},"body":{"subscriptionId":"'"$sub"'","data":[{"id":"E1","type":"Room","A":21.5}]}}'
expected_custom='{"method":"MQTT","path":"town/E1","query":"","headers":{"qos":"0","retain":"false"},"body":"A is 21.5"}'
[[ $dump == *"$expected_kv"* ]] || fail "mqtt notification not received as expected: $dump"
[[ $dump == *"$expected_custom"* ]] || fail "mqttCustom notification not received as expected: $dump"
[[ $dump != *town/denied* ]] || fail "a refused login published anyway: $dump"

sleep 1.5
got=$(curl -s "$url/v2/subscriptions/$sub")
[[ $got == *'"timesSent":1,'* && $got == *'"mqtt":{"url":"mqtt://127.0.0.1:'"$mport_auth"'","topic":"town/rooms","qos":1,"retain":false,"user":"town","passwd":"*****"}'* ]] ||
    fail "GET mqtt subscription: $got"
[[ $got == *'"lastSuccess":'* && $got != *lastSuccessCode* ]] || fail "mqtt success figures: $got"
got=$(curl -s "$url/v2/subscriptions/$bad")
[[ $got == *'"lastFailure":'* && $got == *'"failsCounter":1,'* && $got != *lastFailureReason* ]] ||
    fail "refused login not counted as a failure: $got"

kill "$bpid"
wait "$bpid" || fail "the broker did not exit cleanly"
echo "mqtt: notifications delivered through mosquitto, refused login counted"
