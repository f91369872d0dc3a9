#!/usr/bin/env bash
# tests/adapters/tourism.sh: the tourism adapter reads a 観光施設一覧 CSV in
# Shift_JIS (made here from the UTF-8 source with iconv, as Excel writes
# it: CP932 with NEC characters such as ① and ㈱) and the same file in UTF-8
# with a BOM, into PointOfInterest entities, plus a visitor-count feed into
# TourismPresenceObserved; two adapters in one host, two tenants.
#
# Both encodings give identical entities; rows without 名称, with a
# non-numeric or swapped 緯度/経度 are skipped and counted, and so are rows
# and visitor records whose entity id would be longer than the broker takes
# (cut, two such ids with a common start would be one entity); ASCII
# parentheses are kept as full-width ones. After a restart, with one row
# changed, only that row is written; unchanged files answer 304.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/files"
iconv -f UTF-8 -t CP932 "$TA_DATA/tourism/kanko.csv" >"$T/files/kanko-sjis.csv"
if iconv -f UTF-8 -t UTF-8 "$T/files/kanko-sjis.csv" >/dev/null 2>&1; then
    ta_fail "the Shift_JIS file is valid UTF-8: the test would prove nothing"
fi
long=$(printf 'L%.0s' $(seq 230)) # with the prefix, past the 256 bytes of an entity id
{
    printf '\xef\xbb\xbf'
    cat "$TA_DATA/tourism/kanko.csv"
    printf '209991,%sA,長野県つなぎ町,長いIDの施設A\r\n209991,%sB,長野県つなぎ町,長いIDの施設B\r\n' "$long" "$long"
} >"$T/files/kanko-utf8.csv"
jq --arg f "$long" '.observations += [{"facilityId": $f, "date": "2024-05-03", "visitors": 1}]' \
    "$TA_DATA/tourism/visitors.json" >"$T/files/visitors.json"

ta_start_broker
ta_start_upstream --files "$T/files"
cat >"$T/adapters.json" <<EOF
{
  "broker": {"url": "$BROKER"},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "adapters": [
    {"name": "kanko-sjis", "plugin": "$TA_TOURISM_SO", "service": "town1", "subservice": "/tourism",
     "interval": 3600,
     "options": {"csvUrl": "$UPSTREAM/files/kanko-sjis.csv",
                 "visitors": {"url": "$UPSTREAM/files/visitors.json"},
                 "municipalityCode": "209991"}},
    {"name": "kanko-utf8", "plugin": "$TA_TOURISM_SO", "service": "town2", "subservice": "/tourism",
     "interval": 3600, "options": {"csvUrl": "$UPSTREAM/files/kanko-utf8.csv", "encoding": "auto"}}
  ]
}
EOF
ta_start_host "$T/adapters.json"
sj=$(ta_wait_runs kanko-sjis 1)
u8=$(ta_wait_runs kanko-utf8 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$sj")" '[null,10,6]' \
    "Shift_JIS adapter: error, written (7 facilities + 3 counts), skipped (3 rows + 3 counts)"
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$u8")" '[null,7,5]' \
    "UTF-8 adapter: error, written, skipped (3 rows + 2 with too long an id)"
[ "$(grep -c 'adapter=kanko-utf8 | skipped: line [0-9]*: id too long' "$T/host.log")" = 2 ] ||
    ta_fail "the rows with too long an id are not logged as such"
grep -q 'adapter=kanko-sjis | skipped: visitor record 5: id too long' "$T/host.log" ||
    ta_fail "the visitor record with too long an id is not logged as such"

q='type=PointOfInterest&options=keyValues&limit=100&orderBy=id'
a=$(ta_get town1 /tourism "/v2/entities?$q" | jq -c 'map(del(.source))')
b=$(ta_get town2 /tourism "/v2/entities?$q" | jq -c 'map(del(.source))')
ta_eq "$(jq length <<<"$a")" 7 "facilities from the Shift_JIS file"
ta_eq "$a" "$b" "entities from Shift_JIS and from UTF-8 with BOM"
ta_eq "$(jq -c '[.[].id]' <<<"$a")" \
    '["urn:ngsi-ld:PointOfInterest:209991-S0001","urn:ngsi-ld:PointOfInterest:209991-S0002","urn:ngsi-ld:PointOfInterest:209991-S0003","urn:ngsi-ld:PointOfInterest:209991-S0004","urn:ngsi-ld:PointOfInterest:209991-S0005","urn:ngsi-ld:PointOfInterest:209991-S0009","urn:ngsi-ld:PointOfInterest:209991-S0010"]' \
    "facilities written"
poi() { jq -c --arg id "urn:ngsi-ld:PointOfInterest:209991-$1" '.[] | select(.id == $id)' <<<"$a"; }
s1=$(poi S0001)
ta_eq "$(jq -c '[.name, .alternateName, .nameKana, .category, .location]' <<<"$s1")" \
    '["上川の滝","Kamikawa Falls","カミカワノタキ",["滝"],{"type":"Point","coordinates":[138.252901,36.204812]}]' \
    "S0001 name, category and location"
ta_eq "$(jq -r .description <<<"$s1")" "$(printf '落差30メートルの滝。遊歩道と展望台があり、\n新緑と紅葉の季節は特に見事です。')" \
    "quoted multi-line description"
ta_eq "$(jq -c '[.address, .contactPoint, .openingHoursSpecification[0], (.openingHoursSpecification | length)]' <<<"$s1")" \
    '[{"streetAddress":"長野県つなぎ町大字上川1234","addressCountry":"JP","addressLocality":"長野県つなぎ町"},{"name":"つなぎ町観光協会","telephone":"0260-00-1111"},{"dayOfWeek":"Monday","opens":"08:00","closes":"17:00"},7]' \
    "S0001 address, contact and hours"
ta_eq "$(poi S0002 | jq -r .description)" '戦国時代の山城跡（国指定史跡）。春は約500本の桜が咲きます。' \
    "ASCII parentheses kept as full-width"
ta_eq "$(poi S0003 | jq -c '[.address.streetAddress, .contactPoint.name]')" \
    '["長野県つなぎ町大字湯の里55 湯の里ビル①","㈱つなぎ観光開発"]' "NEC characters of CP932"
ta_eq "$(poi S0004 | jq -c '[.location, .name]')" '[null,"星見の丘"]' "a facility without position"
ta_eq "$(poi S0005 | jq -r .description)" '道の駅「つなぎ」は＂地元の味＂が自慢の産直市場。' "doubled quotes"
ta_eq "$(poi S0009 | jq -c '.openingHoursSpecification')" \
    '[{"dayOfWeek":"Saturday","opens":"09:00","closes":"16:30"},{"dayOfWeek":"Sunday","opens":"09:00","closes":"16:30"},{"dayOfWeek":"PublicHolidays","opens":"09:00","closes":"16:30"}]' \
    "hours on weekends and holidays"
ta_eq "$(poi S0010 | jq -c '[.additionalInfoURL, .image]')" \
    '[null,"https://town.tsunagi.example/images/camp.jpg"]' "a URL NGSI-v2 cannot hold is left out"

v=$(ta_get town1 /tourism '/v2/entities?type=TourismPresenceObserved&options=keyValues&orderBy=id')
ta_eq "$(jq -c '[.[] | [.refPointOfInterest, .visitorCount, .visitorType]]' <<<"$v")" \
    '[["urn:ngsi-ld:PointOfInterest:209991-S0001",1520,"domesticVisitor"],["urn:ngsi-ld:PointOfInterest:209991-S0001",85,"foreignVisitor"],["urn:ngsi-ld:PointOfInterest:209991-S0002",640,null]]' \
    "visitor counts"
ta_eq "$(jq -c '.[0] | [.dateObserved, .dateObservedFrom, .dateObservedTo, .observationMethod]' <<<"$v")" \
    '["2024-05-02T15:00:00.000Z","2024-05-02T15:00:00.000Z","2024-05-03T15:00:00.000Z","wifiProbe"]' \
    "the observed day in Japan's time"
mod1=$(ta_get town1 /tourism '/v2/entities/urn:ngsi-ld:PointOfInterest:209991-S0001?attrs=dateModified&options=keyValues' | jq -r .dateModified)

# One row changes; restart the host on the saved state.
ta_stop_host
sleep 1
sed 's/農産物/農産物/; s/が自慢の産直市場。/が自慢の産直市場。新そばの季節です。/' "$TA_DATA/tourism/kanko.csv" |
    iconv -f UTF-8 -t CP932 >"$T/files/new.csv"
mv "$T/files/new.csv" "$T/files/kanko-sjis.csv"
ta_start_host "$T/adapters.json"
sj=$(ta_wait_runs kanko-sjis 1)
u8=$(ta_wait_runs kanko-utf8 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped, .counters.unchanged]' <<<"$sj")" \
    '[null,1,3,6]' "changed file: one facility written, six unchanged, visitor feed unchanged"
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped, .counters.csvNotModified]' <<<"$u8")" \
    '[null,0,0,1]' "unchanged file: 304"
ta_eq "$(ta_get town1 /tourism '/v2/entities/urn:ngsi-ld:PointOfInterest:209991-S0005?options=keyValues' | jq -r .description)" \
    '道の駅「つなぎ」は＂地元の味＂が自慢の産直市場。新そばの季節です。' "the changed row"
ta_eq "$(ta_get town1 /tourism '/v2/entities/urn:ngsi-ld:PointOfInterest:209991-S0001?attrs=dateModified&options=keyValues' | jq -r .dateModified)" \
    "$mod1" "an unchanged row is not rewritten"
nm=$(curl -sf "$UPSTREAM/_admin/stats" | jq '.["/files"].notModified')
[ "$nm" -ge 2 ] || ta_fail "expected 304s for the unchanged files, got $nm"

ta_stop_host
ta_stop_broker
echo "tourism: Shift_JIS and UTF-8 BOM alike, 7 facilities, 3 visitor counts; incremental 1 row"
