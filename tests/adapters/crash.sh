#!/usr/bin/env bash
# tests/adapters/crash.sh: a plugin that crashes on purpose (SIGSEGV on its
# first run, every time) next to a healthy tourism adapter in one host.
#
# The host logs each crash and restarts the plugin with a backoff that
# doubles (0.2 s, 0.4 s, 0.8 s, capped at 1 s); the tourism adapter keeps
# running on schedule, untouched; the broker keeps serving and stops
# cleanly at the end; the host itself stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
export TA_ALLOW_SEGV=1 # under AddressSanitizer the crash is reported as a SEGV

mkdir -p "$T/files"
cp "$TA_DATA/tourism/kanko.csv" "$T/files/kanko.csv"
ta_start_broker
ta_start_upstream --files "$T/files"
cat >"$T/adapters.json" <<EOC
{
  "broker": {"url": "$BROKER"},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "restart": {"initial": 0.2, "max": 1},
  "adapters": [
    {"name": "crasher", "plugin": "$TA_CRASH_SO", "service": "town1", "interval": 0.2},
    {"name": "kanko", "plugin": "$TA_TOURISM_SO", "service": "town1", "subservice": "/tourism",
     "interval": 0.3, "options": {"csvUrl": "$UPSTREAM/files/kanko.csv"}}
  ]
}
EOC
ta_start_host "$T/adapters.json"
ta_wait_status crasher '.restarts >= 4' >/dev/null
k=$(ta_wait_runs kanko 1)
r1=$(jq .runs <<<"$k")
ta_wait_status crasher ".restarts >= 6" >/dev/null
k=$(ta_wait_status kanko ".runs >= $r1 + 3")
ta_eq "$(jq -c '[.restarts, .failures, .lastError, .entitiesWritten]' <<<"$k")" '[0,0,null,7]' \
    "the healthy adapter next to the crashing one"
c=$(ta_status crasher)
grep -qE 'killed by signal 11|exited with status 1' <<<"$(jq -r .lastError <<<"$c")" ||
    ta_fail "the crash is not reported: $(jq -r .lastError <<<"$c")"
for d in 0.2 0.4 0.8 1.0; do
    grep -q "adapter=crasher | process .* restarting in $d s" "$T/host.log" ||
        ta_fail "no restart after $d s in the log"
done
probes=$(ta_get town1 / '/v2/entities?type=CrashProbe&limit=100' | jq length)
[ "$probes" -ge 4 ] || ta_fail "each restarted crasher should have written before crashing ($probes)"
ta_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BROKER/version")" 200 "the broker during the crashes"
ta_eq "$(ta_get town1 /tourism '/v2/entities?type=PointOfInterest&limit=100' | jq length)" 7 \
    "the healthy adapter's entities"

ta_stop_host
ta_stop_broker
echo "crash: $(jq .restarts <<<"$c") restarts of the crasher with backoff; the other adapter ran $(jq .runs <<<"$k") times"
