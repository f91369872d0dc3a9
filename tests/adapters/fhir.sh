#!/usr/bin/env bash
# tests/adapters/fhir.sh: the fhir adapter against a FHIR R4 server serving
# recorded Bundles (paged), and the real broker validating the entities.
#
# First sync: every mapped vital sign of a linked Patient becomes a
# VitalSignObserved (steps: PhysicalActivityObserved) owned by the
# resident; the unlinked Patient, the entered-in-error and value-less
# Observations, the unmapped code and the out-of-range heart rate are
# skipped and counted; no demographics reach the broker. Then the host is
# restarted on an upstream where one Observation changed and two are new:
# the second sync (from the saved "since") writes exactly those three. Last,
# an Observation stored later with the same lastUpdated as "since" is read
# by the third sync, which writes only it.
. "$(dirname "$0")/lib.sh"

cp "$TA_DATA/fhir/clinic-a-1.json" "$T/fhir.json"
ta_start_broker
ta_start_upstream --fhir "$T/fhir.json"
ta_link town1 clinic-a 1001 urn:ngsi-ld:Person:resident-0001
ta_link town1 clinic-a 1002 urn:ngsi-ld:Person:resident-0002

cat >"$T/adapters.json" <<EOF
{
  "broker": {"url": "$BROKER", "batchSize": 4},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "adapters": [{
    "name": "clinic-a", "plugin": "$TA_FHIR_SO", "service": "town1", "subservice": "/health",
    "interval": 3600,
    "options": {"baseUrl": "$UPSTREAM/fhir", "pageSize": 5,
                "identifierSystem": "urn:oid:1.2.392.100495.20.3.51.11234567"}
  }]
}
EOF
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs clinic-a 1)
ta_eq "$(jq -r .lastError <<<"$st")" null "last error after the first sync"
ta_eq "$(jq -r .lastRunWritten <<<"$st")" 7 "entities written by the first sync"
ta_eq "$(jq -r .lastRunSkipped <<<"$st")" 5 "records skipped by the first sync"
ta_eq "$(jq -r '.lastSuccess != null' <<<"$st")" true "lastSuccess set"
ta_eq "$(jq -r .counters.unlinkedObservations <<<"$st")" 1 "unlinked observations counted"

q='options=keyValues&limit=100&orderBy=id'
vitals=$(ta_get town1 /health "/v2/entities?type=VitalSignObserved&$q")
ta_eq "$(jq length <<<"$vitals")" 6 "VitalSignObserved entities"
ta_eq "$(jq -c '[.[].id | sub(".*:"; "")]' <<<"$vitals")" \
    '["obs-001","obs-002","obs-003","obs-004","obs-005","obs-008"]' "observations written"
w=$(jq -c '.[] | select(.id | endswith("obs-001"))' <<<"$vitals")
ta_eq "$(jq -c '[.code, .value, .unit, .ownerId, .owner, .status, .category]' <<<"$w")" \
    '["29463-7",62.4,"kg","urn:ngsi-ld:Person:resident-0001",null,"final","vital-signs"]' "body weight"
ta_eq "$(jq -r .dateObserved <<<"$w")" 2024-04-30T22:30:00.000Z "dateObserved in UTC"
bp=$(jq -c '.[] | select(.id | endswith("obs-002")) | .component' <<<"$vitals")
ta_eq "$bp" '[{"code":"8480-6","value":132,"unit":"mm[Hg]"},{"code":"8462-4","value":84,"unit":"mm[Hg]"}]' \
    "blood pressure components"
ta_eq "$(jq -c '.[] | select(.id | endswith("obs-005")) | [.value, .unit]' <<<"$vitals")" '[54.88,"kg"]' \
    "pounds converted to kg"
ta_eq "$(jq -c '.[] | select(.id | endswith("obs-008")) | [.value, .unit]' <<<"$vitals")" '[37,"Cel"]' \
    "Fahrenheit converted to Celsius"
steps=$(ta_get town1 /health "/v2/entities?type=PhysicalActivityObserved&$q")
ta_eq "$(jq -c '[.[] | [.code, .value, .ownerId]]' <<<"$steps")" \
    '[["41950-7",6843,"urn:ngsi-ld:Person:resident-0002"]]' "step count"

# Nothing of the unlinked Patient, and no demographics of anyone.
all=$(ta_get town1 /health "/v2/entities?limit=1000")
grep -q 'obs-007' <<<"$all" && ta_fail "the unlinked patient's observation was stored"
for word in 山田 佐藤 鈴木 太郎 1948-05-03 male female Insurance- 0260-11 上川; do
    grep -q -- "$word" <<<"$all" && ta_fail "demographics reached the broker: $word"
done
[ "$(jq '[.[] | select(.ownerId == null)] | length' <<<"$all")" = 0 ] || ta_fail "an entity without owner"

mod2=$(ta_get town1 /health "/v2/entities?id=urn:ngsi-ld:VitalSignObserved:clinic-a:obs-002&attrs=dateModified&options=keyValues" | jq -r '.[0].dateModified')
since=$(jq -r '.state.since' "$T/state/clinic-a.json")
ta_eq "$since" 2024-05-01T08:11:00+09:00 "saved since"

# Incremental sync after a restart of the host.
ta_stop_host
sleep 1 # so that a rewrite of obs-002 would show in its dateModified
cp "$TA_DATA/fhir/clinic-a-2.json" "$T/fhir.json.new" && mv "$T/fhir.json.new" "$T/fhir.json"
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs clinic-a 1)
ta_eq "$(jq -r .lastError <<<"$st")" null "last error after the second sync"
ta_eq "$(jq -r .lastRunWritten <<<"$st")" 3 "entities written by the incremental sync"
ta_eq "$(jq -r .lastRunSkipped <<<"$st")" 0 "records skipped by the incremental sync"
vitals=$(ta_get town1 /health "/v2/entities?type=VitalSignObserved&$q")
ta_eq "$(jq length <<<"$vitals")" 8 "VitalSignObserved entities after the second sync"
ta_eq "$(jq -c '.[] | select(.id | endswith("obs-001")) | [.value, .status]' <<<"$vitals")" \
    '[62.1,"amended"]' "the corrected weight"
ta_eq "$(jq -c '.[] | select(.id | endswith("obs-014")) | [.value, .unit]' <<<"$vitals")" '[97,"%"]' \
    "the new SpO2"
mod2b=$(ta_get town1 /health "/v2/entities?id=urn:ngsi-ld:VitalSignObserved:clinic-a:obs-002&attrs=dateModified&options=keyValues" | jq -r '.[0].dateModified')
ta_eq "$mod2b" "$mod2" "unchanged observation not rewritten"
ta_eq "$(jq -r '.state.since' "$T/state/clinic-a.json")" 2024-05-02T08:02:00+09:00 "since advanced"

# A new Observation at exactly "since" (stored after the last search, in the
# same millisecond as obs-014): read by a search from since, while obs-014,
# read there before, is not written again.
mod14=$(ta_get town1 /health "/v2/entities?id=urn:ngsi-ld:VitalSignObserved:clinic-a:obs-014&attrs=dateModified&options=keyValues" | jq -r '.[0].dateModified')
ta_stop_host
sleep 1
jq '.entry += [.entry[] | select(.resource.id == "obs-014")
               | .fullUrl |= sub("obs-014"; "obs-015") | .resource.id = "obs-015"
               | .resource.valueQuantity.value = 95]' \
    "$TA_DATA/fhir/clinic-a-2.json" >"$T/fhir.json.new" && mv "$T/fhir.json.new" "$T/fhir.json"
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs clinic-a 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$st")" '[null,1,0]' \
    "third sync: the Observation at since"
ta_eq "$(ta_get town1 /health "/v2/entities?id=urn:ngsi-ld:VitalSignObserved:clinic-a:obs-015&options=keyValues" | jq -c '[.[0].value, .[0].ownerId]')" \
    '[95,"urn:ngsi-ld:Person:resident-0001"]' "the Observation at since"
ta_eq "$(ta_get town1 /health "/v2/entities?id=urn:ngsi-ld:VitalSignObserved:clinic-a:obs-014&attrs=dateModified&options=keyValues" | jq -r '.[0].dateModified')" \
    "$mod14" "the Observation read at since before is not rewritten"
ta_eq "$(jq -c '.state | [.since, .sinceIds]' "$T/state/clinic-a.json")" \
    '["2024-05-02T08:02:00+09:00","[\"obs-014\",\"obs-015\"]"]' "since and the ids read there"

ta_stop_host
ta_stop_broker
echo "fhir: first sync 7 written / 5 skipped; incremental 3 written; 1 more at since"
