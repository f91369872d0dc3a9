#!/usr/bin/env bash
# tests/adapters/faults.sh: upstream errors against the fhir adapter.
#
# 500s: every request is retried, every run fails, and the runs back off
# exponentially (0.5 s, 1 s, 2 s, capped); nothing is written and no cursor
# is saved; once the upstream recovers the next run syncs everything.
# Timeouts: a slow upstream fails the run with a timeout, not a hang.
# A malformed page in the middle of a sync fails the run before anything of
# it is written and without moving the cursor; the next good run writes the
# changes once.
. "$(dirname "$0")/lib.sh"

cp "$TA_DATA/fhir/clinic-a-1.json" "$T/fhir.json"
ta_start_broker
ta_start_upstream --fhir "$T/fhir.json"
ta_link town1 clinic-a 1001 urn:ngsi-ld:Person:resident-0001
ta_link town1 clinic-a 1002 urn:ngsi-ld:Person:resident-0002

config() { # page size
    cat >"$T/adapters.json" <<EOF
{
  "broker": {"url": "$BROKER"},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "retry": {"initial": 0.5, "max": 2},
  "adapters": [{
    "name": "clinic-a", "plugin": "$TA_FHIR_SO", "service": "town1", "subservice": "/health",
    "interval": 1, "http": {"timeout": 1, "retries": 1, "retryDelay": 0.1},
    "options": {"baseUrl": "$UPSTREAM/fhir", "pageSize": $1}
  }]
}
EOF
}
count_vitals() {
    curl -sf -o /dev/null -D - -H 'Fiware-Service: town1' -H 'Fiware-ServicePath: /health' \
        "$BROKER/v2/entities?type=VitalSignObserved&limit=1&options=count" |
        tr -d '\r' | sed -n 's/^Fiware-Total-Count: //p'
}

# --- 500s: backoff, no writes, no cursor.
ta_fault 500 /fhir/ -1
config 5
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs clinic-a 3)
ta_eq "$(jq -c '[.failures == .runs, .lastSuccess, .entitiesWritten]' <<<"$st")" '[true,null,0]' \
    "runs against a failing upstream"
grep -q '500' <<<"$(jq -r .lastError <<<"$st")" || ta_fail "last error does not name the 500: $st"
# The backoff after failure k is min(0.5 * 2^(k-1), 2) seconds.
k=$(jq .failuresInRow <<<"$st")
want=$(awk -v k="$k" 'BEGIN { d = 0.5 * 2 ^ (k - 1); print (d > 2 ? 2 : d) }')
ta_eq "$(jq -r '.backoff' <<<"$st")" "$want" "backoff after $k failures"
hits=$(curl -sf "$UPSTREAM/_admin/stats" | jq '.["/fhir"].requests')
[ "$hits" -ge $((2 * k)) ] || ta_fail "each run should try twice (retries 1): $hits requests for $k runs"
[ -z "$(jq -r '.state.since // empty' "$T/state/clinic-a.json" 2>/dev/null)" ] ||
    ta_fail "a cursor was saved by a failed run"
ta_eq "$(count_vitals)" 0 "entities written while the upstream fails"

ta_fault none / 0
st=$(ta_wait_status clinic-a '.lastSuccess != null')
ta_eq "$(jq -c '[.failuresInRow, .backoff, .entitiesWritten]' <<<"$st")" '[0,null,7]' \
    "recovery: the first good run writes everything"
ta_eq "$(count_vitals)" 6 "VitalSignObserved after recovery"

# --- timeouts.
ta_fault slow /fhir/ -1 2.5
st=$(ta_wait_status clinic-a '.failuresInRow >= 1')
grep -qi 'timeout\|timed out' <<<"$(jq -r .lastError <<<"$st")" ||
    ta_fail "a slow upstream should fail with a timeout: $(jq -r .lastError <<<"$st")"
ta_fault none / 0
ta_wait_status clinic-a '.failuresInRow == 0' >/dev/null

# --- a malformed page in the middle of a sync.
ta_stop_host
cp "$TA_DATA/fhir/clinic-a-2.json" "$T/fhir.new" && mv "$T/fhir.new" "$T/fhir.json"
since=$(jq -r .state.since "$T/state/clinic-a.json")
config 2
ta_fault malformed /fhir/Observation -1 0 1 # the first page is fine, the rest are not
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs clinic-a 2)
ta_eq "$(jq -c '[.failures == .runs, .entitiesWritten]' <<<"$st")" '[true,0]' "runs on malformed pages"
ta_eq "$(jq -r .state.since "$T/state/clinic-a.json")" "$since" "cursor after the failed runs"
o1=$(ta_get town1 /health '/v2/entities/urn:ngsi-ld:VitalSignObserved:clinic-a:obs-001?options=keyValues')
ta_eq "$(jq -c '[.value, .status]' <<<"$o1")" '[62.4,"final"]' "obs-001 untouched by the failed runs"
ta_eq "$(count_vitals)" 6 "no entity of a failed run"
ta_fault none / 0
st=$(ta_wait_status clinic-a '.lastSuccess != null')
ta_eq "$(jq -r .entitiesWritten <<<"$st")" 3 "the changes, written once"
o1=$(ta_get town1 /health '/v2/entities/urn:ngsi-ld:VitalSignObserved:clinic-a:obs-001?options=keyValues')
ta_eq "$(jq -c '[.value, .status]' <<<"$o1")" '[62.1,"amended"]' "obs-001 after recovery"
ta_eq "$(count_vitals)" 8 "VitalSignObserved after recovery"

ta_stop_host
ta_stop_broker
echo "faults: 500s back off (${k} failures, ${want} s), timeouts fail, malformed pages write nothing"
