#!/usr/bin/env bash
# tests/adapters/currency.sh: the local-currency adapter against the REST
# shape of docs/adapters.md (paged), and against a vendor API of another
# shape through the field mapping, which answers through a redirect (whose
# own headers, a Link rel="next" among them, are not the answer's).
#
# Member shops become Store (open), daily totals DailyPaymentStatistics,
# balances LocalCurrencyAccount and grants PointGrant owned by the linked
# residents; unlinked users, shops without a name, negative amounts and a
# zero-point grant (refused by the schema) are skipped and counted, and so
# are shops whose entity id would be too long (cut, two of them would be one
# entity) and a transaction count past what a whole number can hold. A user id is looked up whole, never a cut one. After a
# restart, only what changed since (and the daily totals of the re-read
# window) is written.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/files"
# Two shops whose ids differ only past the 256 bytes of an entity id; an
# account whose user id only a cut copy of would be linked (to resident-0009).
long=$(printf 'L%.0s' $(seq 240))
user=$(printf 'U%.0s' $(seq 127))
jq --arg l "$long" --arg u "$user" '
    .shops += [{"shop_id": ($l + "A"), "name": "長いIDの店A", "updated_at": "2024-04-01T00:00:00+09:00"},
               {"shop_id": ($l + "B"), "name": "長いIDの店B", "updated_at": "2024-04-01T00:00:00+09:00"}]
    | .accounts += [{"user_id": ($u + "Z"), "balance": 1, "points": 0, "status": "active",
                     "updated_at": "2024-04-01T00:00:00+09:00"}]
    | .payments += [{"date": "2024-04-28", "shop_id": "S-199", "transactions": 1e19, "amount": 1}]' \
    "$TA_DATA/currency/platform-1.json" >"$T/currency.json"
cp "$TA_DATA/currency/vendor-shops.json" "$T/files/"
ta_start_broker
ta_start_upstream --currency "$T/currency.json" --files "$T/files"
ta_link town1 wallet U-0001 urn:ngsi-ld:Person:resident-0001
ta_link town1 wallet U-0002 urn:ngsi-ld:Person:resident-0002
ta_link town1 wallet "$user" urn:ngsi-ld:Person:resident-0009

cat >"$T/adapters.json" <<EOF
{
  "broker": {"url": "$BROKER", "ownerList": true},
  "stateDir": "$T/state",
  "status": {"port": 0},
  "adapters": [
    {"name": "wallet", "plugin": "$TA_CURRENCY_SO", "service": "town1", "subservice": "/currency",
     "interval": 3600,
     "options": {"baseUrl": "$UPSTREAM/currency/v1", "currency": "TSUNAGI", "perPage": 2,
                 "paymentDays": 1,
                 "reasons": {"health": "healthProgram", "event": "eventParticipation"},
                 "accountStatuses": {"frozen": "suspended"}}},
    {"name": "wallet-vendor", "plugin": "$TA_CURRENCY_SO", "service": "town2", "subservice": "/currency",
     "interval": 3600,
     "options": {"baseUrl": "$UPSTREAM/redirect/files", "currency": "TSUNAGI", "next": "paging.next",
                 "paths": {"shops": "/vendor-shops.json", "payments": "", "accounts": "", "grants": ""},
                 "fields": {"shops": {"list": "data.stores", "id": "storeCode", "name": "storeName",
                   "category": "genre", "description": "memo", "lat": "location.lat",
                   "lon": "location.lng", "phone": "tel", "joined": "memberSince", "status": "state",
                   "updated": "modified", "address": ""}}}}
  ]
}
EOF
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs wallet 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$st")" '[null,14,9]' \
    "first sync: error, written, skipped"
ta_eq "$(jq -c '.counters | [.shops, .payments, .accounts, .grants, .unlinkedUsers]' <<<"$st")" \
    '[4,5,2,4,3]' "records mapped per resource, unlinked users"
[ "$(grep -c 'adapter=wallet | skipped: shops item [0-9]*: id too long' "$T/host.log")" = 2 ] ||
    ta_fail "the shops with too long an id are not logged as such"
grep -q 'adapter=wallet | skipped: payments item [0-9]*: transaction count is not a whole number' \
    "$T/host.log" || ta_fail "a count of 1e19 is not skipped as not a whole number"

kv='options=keyValues&limit=100&orderBy=id'
shops=$(ta_get town1 /currency "/v2/entities?type=Store&$kv")
ta_eq "$(jq -c '[.[] | [.id, .name, .acceptsLocalCurrency]]' <<<"$shops")" \
    '[["urn:ngsi-ld:Store:wallet:103","上川タクシー（有）",true],["urn:ngsi-ld:Store:wallet:S-101","つなぎ精肉店",true],["urn:ngsi-ld:Store:wallet:S-102","喫茶 こもれび",true],["urn:ngsi-ld:Store:wallet:S-104","つなぎ書店",false]]' \
    "member shops"
ta_eq "$(jq -c '.[1] | [.description, .category, .currenciesAccepted, .localCurrencyMemberSince, .location.coordinates, .url]' <<<"$shops")" \
    '["町内産の信州牛を扱う精肉店","食料品",["TSUNAGI"],"2021-04-01",[138.2468,36.2071],"https://tsunagi-meat.example.jp/"]' \
    "shop S-101"
ta_eq "$(jq -r '.[2].description' <<<"$shops")" 地域通貨の加盟店 "default shop description"

pay=$(ta_get town1 /currency "/v2/entities?type=DailyPaymentStatistics&$kv")
ta_eq "$(jq -c '[.[] | [(.id | sub(".*wallet:"; "")), .transactionCount, .totalAmount, .refStore]]' <<<"$pay")" \
    '[["S-101:2024-04-28",42,125400,"urn:ngsi-ld:Store:wallet:S-101"],["S-101:2024-04-29",39,118200,"urn:ngsi-ld:Store:wallet:S-101"],["S-102:2024-04-28",18,13650,"urn:ngsi-ld:Store:wallet:S-102"],["town:2024-04-28",60,139050,null],["town:2024-04-29",60,117700,null]]' \
    "daily totals"
ta_eq "$(jq -c '.[0] | [.dateObserved, .currency, .uniquePayerCount, .pointsGranted, .pointsRedeemed, .averageAmount]' <<<"$pay")" \
    '["2024-04-27T15:00:00.000Z","TSUNAGI",37,1254,300,2985.714285714]' "S-101 on 2024-04-28"

acc=$(ta_get town1 /currency "/v2/entities?type=LocalCurrencyAccount&$kv")
ta_eq "$(jq -c '[.[] | [.owner, .ownerId, .balance, .pointBalance, .accountStatus]] | sort' <<<"$acc")" \
    '[[["urn:ngsi-ld:Person:resident-0001"],"urn:ngsi-ld:Person:resident-0001",12500,340,"active"],[["urn:ngsi-ld:Person:resident-0002"],"urn:ngsi-ld:Person:resident-0002",800,0,"suspended"]]' \
    "balances of the linked residents (ownerList: the models' owner list too)"
grep -q 'U-000' <<<"$acc" && ta_fail "the platform's user id is in an account entity"

gr=$(ta_get town1 /currency "/v2/entities?type=PointGrant&$kv")
ta_eq "$(jq -c '[.[] | [(.id | sub(".*:"; "")), .points, .reason, .refEvent, .ownerId]]' <<<"$gr")" \
    '[["G-9001",500,"healthProgram",null,"urn:ngsi-ld:Person:resident-0001"],["G-9002",100,"eventParticipation","urn:ngsi-ld:Event:tsunagi-matsuri-2024","urn:ngsi-ld:Person:resident-0001"],["G-9003",50,"other",null,"urn:ngsi-ld:Person:resident-0002"]]' \
    "point grants"
acct1=$(jq -r '.[] | select(.owner[0] == "urn:ngsi-ld:Person:resident-0001") | .id' <<<"$acc")
ta_eq "$(jq -r '.[0].refAccount' <<<"$gr")" "$acct1" "grant refers to the account"
ta_eq "$(jq -r '.[0].pointsExpire' <<<"$gr")" 2025-03-31T14:59:59.000Z "point expiry (not the entity's dateExpires)"

vendor=$(ta_wait_runs wallet-vendor 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$vendor")" '[null,2,0]' \
    "vendor API through the field mapping"
ta_eq "$(ta_get town2 /currency "/v2/entities?type=Store&$kv" | jq -c '[.[] | [.id, .name, .description, .telephone, .location.coordinates]]')" \
    '[["urn:ngsi-ld:Store:wallet-vendor:7001","そば処 かみかわ","手打ちそばと地酒","0260-20-7001",[138.2544,36.2031]],["urn:ngsi-ld:Store:wallet-vendor:7002","つなぎ観光物産館","地域通貨の加盟店","0260-20-7002",[138.2477,36.2099]]]' \
    "vendor shops"

# Incremental: one shop changed, a new day, a new grant.
ta_stop_host
cp "$TA_DATA/currency/platform-2.json" "$T/currency.new" && mv "$T/currency.new" "$T/currency.json"
ta_start_host "$T/adapters.json"
st=$(ta_wait_runs wallet 1)
ta_eq "$(jq -c '[.lastError, .lastRunWritten, .lastRunSkipped]' <<<"$st")" '[null,6,1]' \
    "incremental: 1 shop + 4 daily totals (2024-04-29 and 30) + 1 grant; the bad total again"
ta_eq "$(ta_get town1 /currency '/v2/entities/urn:ngsi-ld:Store:wallet:S-102?options=keyValues' | jq -r .description)" \
    自家焙煎珈琲と手作りケーキ "the changed shop"
ta_eq "$(ta_get town1 /currency "/v2/entities?type=PointGrant&$kv" | jq length)" 4 "grants after the second sync"

ta_stop_host
ta_stop_broker
echo "currency: 14 written / 9 skipped, vendor mapping 2, incremental 6"
