#!/usr/bin/env bash
# tests/adapters/broker_protocol.sh: what the host sends to the broker,
# checked on a recording stand-in (tsunagi-test-upstream's /broker/).
#
# Entities go in POST /v2/op/update batches (actionType append) of at most
# broker.batchSize, with the adapter's tenant, service path and token (from
# token_file, or token_env when set); personal data is asked for its id
# link first, and a 404 (no link) means nothing of that person is sent. A
# token file longer than a token may be fails the run: nothing is sent with
# a cut token.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/files"
cp "$TA_DATA/tourism/kanko.csv" "$T/files/kanko.csv"
cp "$TA_DATA/fhir/clinic-a-1.json" "$T/fhir.json"
ta_start_upstream --files "$T/files" --fhir "$T/fhir.json"
printf 'file-token\n' >"$T/token"
config() { # stateDir
    cat <<EOC
{
  "broker": {"url": "$UPSTREAM/broker", "token_file": "$T/token", "token_env": "TA_TEST_TOKEN",
             "batchSize": 3},
  "stateDir": "$1",
  "status": {"port": 0},
  "adapters": [
    {"name": "kanko", "plugin": "$TA_TOURISM_SO", "service": "town1", "subservice": "/tourism",
     "interval": 3600, "options": {"csvUrl": "$UPSTREAM/files/kanko.csv"}},
    {"name": "clinic", "plugin": "$TA_FHIR_SO", "service": "town2", "subservice": "/health",
     "interval": 3600, "options": {"baseUrl": "$UPSTREAM/fhir"}}
  ]
}
EOC
}
config "$T/state1" >"$T/a1.json"
ta_start_host "$T/a1.json"
k=$(ta_wait_runs kanko 1)
c=$(ta_wait_runs clinic 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten]' <<<"$k")" '[null,7]' "tourism through the recording broker"
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .counters.unlinkedObservations]' <<<"$c")" '[null,0,10]' \
    "fhir with no id links"
req=$(curl -sf "$UPSTREAM/_admin/requests")
updates=$(jq -c '[.[] | select(.path == "/v2/op/update")]' <<<"$req")
ta_eq "$(jq -c '[.[] | [.method, .service, .servicePath, .authorization, .body.actionType, (.body.entities | length)]]' <<<"$updates")" \
    '[["POST","town1","/tourism","Bearer file-token","append",3],["POST","town1","/tourism","Bearer file-token","append",3],["POST","town1","/tourism","Bearer file-token","append",1]]' \
    "batches of three with tenant, path and token"
ta_eq "$(jq -c '[.[].body.entities[] | .name.type, .location.type] | unique' <<<"$updates")" '[null,"Text","geo:json"]' \
    "normalized attributes"
links=$(jq -c '[.[] | select(.path | startswith("/tsunagi/idlinks/")) | [.method, .path, .service, .authorization]] | unique' <<<"$req")
ta_eq "$links" '[["GET","/tsunagi/idlinks/clinic/1001","town2","Bearer file-token"],["GET","/tsunagi/idlinks/clinic/1002","town2","Bearer file-token"],["GET","/tsunagi/idlinks/clinic/1003","town2","Bearer file-token"]]' \
    "one id-link lookup per person, cached for the run"
ta_eq "$(jq '[.[] | select(.path | startswith("/tsunagi/idlinks/"))] | length' <<<"$req")" 3 \
    "lookups are not repeated within a run"
ta_stop_host

config "$T/state2" >"$T/a2.json"
export TA_TEST_TOKEN=env-token
ta_start_host "$T/a2.json"
ta_wait_runs kanko 1 >/dev/null
ta_eq "$(curl -sf "$UPSTREAM/_admin/requests" | jq -r '[.[] | select(.path == "/v2/op/update")] | last | .authorization')" \
    "Bearer env-token" "token_env wins over token_file"
ta_stop_host

unset TA_TEST_TOKEN
head -c 20000 /dev/zero | tr '\0' 'x' >"$T/token"
config "$T/state3" >"$T/a3.json"
sent=$(curl -sf "$UPSTREAM/_admin/requests" | jq '[.[] | select(.path == "/v2/op/update")] | length')
ta_start_host "$T/a3.json"
k=$(ta_wait_runs kanko 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten]' <<<"$k")" \
    "[\"token file $T/token: longer than 16383 bytes\",0]" "a token file too long for a token"
ta_eq "$(curl -sf "$UPSTREAM/_admin/requests" | jq '[.[] | select(.path == "/v2/op/update")] | length')" \
    "$sent" "nothing sent with a cut token"
ta_stop_host
echo "broker protocol: batches of 3 with tenant, path and token; id-link lookups cached"
