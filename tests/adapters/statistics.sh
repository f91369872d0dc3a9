#!/usr/bin/env bash
# tests/adapters/statistics.sh: the adapters in the broker's GET /statistics.
#
# A host runs the tourism adapter and writes through one broker. Another
# broker on the same database, started with -adapterStatus naming the
# host's status endpoint, shows the host's figures under "adapters" beside
# its own; a broker without the option shows none. With auth on, only town
# and adapter tokens see them (their errors name upstream systems). When
# the host is down the broker still answers 200, with "adaptersError".
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/files"
cp "$TA_DATA/tourism/kanko.csv" "$T/files/kanko.csv"
ta_start_broker
ta_start_upstream --files "$T/files"
cat >"$T/adapters.json" <<EOC
{
  "broker": {"url": "$BROKER"},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "adapters": [
    {"name": "kanko", "plugin": "$TA_TOURISM_SO", "service": "town1", "subservice": "/tourism",
     "interval": 3600, "options": {"csvUrl": "$UPSTREAM/files/kanko.csv"}}
  ]
}
EOC
ta_start_host "$T/adapters.json"
fields='{name, state, runs, lastRun, entitiesWritten, recordsSkipped, lastError}'
want=$(ta_wait_runs kanko 1 | jq -c "$fields")
ta_eq "$(jq -c '[.runs, .entitiesWritten, .lastError]' <<<"$want")" '[1,7,null]' "the first run"

ta_eq "$(curl -sf "$BROKER/statistics" | jq -c '[has("notifQueue"), has("adapters"), has("adaptersError")]')" \
    '[true,false,false]' "/statistics of a broker without -adapterStatus"

ta_spawn_broker "$T/broker2.log" -adapterStatus "$STATUS"
b2=$TA_SPAWNED b2_pid=$TA_SPAWNED_PID
s=$(curl -sf "$b2/statistics")
ta_eq "$(jq -c "[.adapters[] | $fields]" <<<"$s")" "[$want]" "the adapters in /statistics"
ta_eq "$(jq -c '[has("notifQueue"), has("uptime_in_secs"), has("adaptersError")]' <<<"$s")" \
    '[true,true,false]' "the broker's own figures beside the adapters"

secret=$(printf 'statistics-test-secret-%.0s' 1 2)
ta_spawn_broker "$T/broker3.log" -auth on -authSecret "$secret" -adapterStatus "$STATUS"
b3=$TA_SPAWNED b3_pid=$TA_SPAWNED_PID
shown() { # TOKEN: how many adapters /statistics shows with it ("" for none)
    curl -sf ${1:+-H "Authorization: Bearer $1"} "$b3/statistics" |
        jq -r 'if has("adapters") then .adapters | length else "none" end'
}
mint() { "$TA_TOKEN" mint --secret "$secret" --tenant town1 "$@"; }
ta_eq "$(shown "")" none "adapters shown without a token"
ta_eq "$(shown "$(mint --sub shop-app --roles vendor --scope 'entities:read:*')")" none \
    "adapters shown to a vendor"
ta_eq "$(shown "$(mint --sub resident-1 --roles resident)")" none "adapters shown to a resident"
ta_eq "$(shown "$(mint --sub town-1 --roles town)")" 1 "adapters shown to the town"
ta_eq "$(shown "$(mint --sub kanko --roles adapter)")" 1 "adapters shown to an adapter"
ta_stop_broker "$b3_pid"

ta_stop_host
s=$(curl -s -w '\n%{http_code}' "$b2/statistics")
ta_eq "$(tail -n1 <<<"$s")" 200 "/statistics with the host down"
ta_eq "$(head -n -1 <<<"$s" | jq -c '[.adapters, has("notifQueue")]')" '[[],true]' \
    "/statistics with the host down"
err=$(head -n -1 <<<"$s" | jq -r .adaptersError)
case "$err" in
"$STATUS: "*) ;;
*) ta_fail "adaptersError does not name the host's URL and the reason: $err" ;;
esac
grep -q "adapter status: $STATUS" "$T/broker2.log" || ta_fail "the unreachable host is not logged"

ta_stop_broker "$b2_pid"
ta_stop_broker
echo "statistics: $(jq -r .name <<<"$want") shown by a second broker; hidden from vendors and residents; host down: $err"
