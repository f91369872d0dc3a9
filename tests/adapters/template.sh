#!/usr/bin/env bash
# tests/adapters/template.sh: the template adapter, as an outside developer
# would use it: build adapters/template on its own with CMake against the
# SDK header, run the built .so in tsunagi-adapters against a calendar API
# (here a recorded JSON file) and the broker, and check the Event entities.
# After a restart, the run asks only for what changed since its saved cursor
# and writes nothing.
. "$(dirname "$0")/lib.sh"

cmake -S "$TA_ROOT/adapters/template" -B "$T/build" >"$T/build.log" 2>&1 ||
    ta_fail "configuring the template failed: $(cat "$T/build.log")"
cmake --build "$T/build" >>"$T/build.log" 2>&1 || ta_fail "building the template failed"
so=$T/build/template.so
[ -f "$so" ] || ta_fail "no template.so"
nm -D --defined-only "$so" | grep -q ' T tsunagi_adapter_init$' || ta_fail "init is not exported"

mkdir -p "$T/files"
cp "$TA_DATA/template/events.json" "$T/files/"
ta_start_broker
ta_start_upstream --files "$T/files"
cat >"$T/adapters.json" <<EOC
{
  "broker": {"url": "$BROKER"},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "adapters": [{"name": "calendar", "plugin": "$so", "service": "town1", "subservice": "/events",
                "options": {"url": "$UPSTREAM/files/events.json"}}]
}
EOC
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs calendar 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped, .counters.events, .interval]' <<<"$st")" \
    '[null,3,1,3,3600]' "the template's first run"
ev=$(ta_get town1 /events '/v2/entities?type=Event&options=keyValues&orderBy=id')
ta_eq "$(jq -c '[.[] | [.id, .title, .startDate, .isAccessibleForFree]]' <<<"$ev")" \
    '[["urn:ngsi-ld:Event:calendar:ev-2024-001","つなぎ夏まつり","2024-08-10T08:00:00.000Z",true],["urn:ngsi-ld:Event:calendar:ev-2024-002","上川の滝 紅葉ライトアップ","2024-10-25T09:00:00.000Z",false],["urn:ngsi-ld:Event:calendar:ev-2024-004","朝市","2024-07-06T21:00:00.000Z",null]]' \
    "events"
ta_eq "$(jq -r .state.since "$T/state/calendar.json")" 2024-06-03T11:00:00+09:00 "the template's cursor"

ta_stop_host
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs calendar 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$st")" '[null,0,0]' "nothing updated since the saved cursor"
ta_stop_host
ta_stop_broker
echo "template: built out of the tree, 3 events written, 1 skipped; unchanged calendar writes nothing"
