#!/usr/bin/env bash
# tests/integration/auth_keys.sh BROKER TSUNAGI-TOKEN: public keys in the broker.
#
# RS256 and ES256 tokens checked against a JWKS file chosen by kid; key
# rotation without a restart, both when the file changes and on SIGHUP; a
# broken key file on reload keeps the old keys; alg confusion (an HS256 token
# "signed" with the broker's RSA public key) is refused. Keys are made with
# tsunagi-token keygen; the database is the ctest fixture's.
set -euo pipefail
broker=$1
tool=$2
dir=$(mktemp -d)
bpid=""
cleanup() {
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
# A killed test (a ctest timeout, ^C) still stops what it started.
trap 'exit 143' TERM INT HUP
fail() { echo "FAIL: $*" >&2; cat "$dir/broker.log" >&2 || true; exit 1; }

dbport=$(cat "${TSUNAGI_TEST_DB_DIR:?}/mongo.port")
for k in k1:rs256 k2:es256 k3:rs256; do
    "$tool" keygen --type "${k#*:}" --out "$dir/${k%:*}" --kid "${k%:*}" >/dev/null
done
cp "$dir/k1.jwks.json" "$dir/keys.jwks"

start_broker() { # extra broker arguments; port 0: the broker logs the one it got
    : >"$dir/broker.log"
    "$broker" -port 0 -dbURI "mongodb://127.0.0.1:$dbport" -db "authkeys$$" \
        -logLevel INFO -auth on "$@" >>"$dir/broker.log" 2>&1 &
    bpid=$!
    for _ in $(seq 100); do
        bport=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/broker.log")
        [ -n "$bport" ] && break
        sleep 0.1
    done
    url=http://127.0.0.1:$bport
    for _ in $(seq 100); do curl -fsS "$url/version" >/dev/null 2>&1 && return; sleep 0.1; done
    fail "the broker did not start"
}
stop_broker() {
    kill "$bpid"
    wait "$bpid" || fail "the broker did not exit cleanly"
    bpid=""
}
mint() { # key-prefix, then more mint options
    local k=$1
    shift
    "$tool" mint --key "$dir/$k.key.pem" --kid "$k" --sub town-1 --roles town "$@"
}
# Status of a request that needs a valid town token.
status() { curl -s -o "$dir/body" -w '%{http_code}' "$url/tsunagi/provisions/counts" -H "Authorization: Bearer $1"; }
expect() { # token, status, what
    local got
    got=$(status "$1")
    [ "$got" = "$2" ] || fail "$3: expected $2, got $got: $(cat "$dir/body")"
}
# Waits up to 5 s for a token to get the status (the broker looks for a changed
# key file at most once a second).
eventually() {
    for _ in $(seq 50); do [ "$(status "$1")" = "$2" ] && return; sleep 0.1; done
    expect "$@"
}
replace() { cp "$2" "$dir/tmp.jwks" && mv "$dir/tmp.jwks" "$1"; } # atomically

start_broker -authKeyFile "$dir/keys.jwks"
t1=$(mint k1)
t2=$(mint k2)
expect "$t1" 200 "RS256 token with a key of the JWKS"
expect "$t2" 401 "ES256 token whose kid is not in the JWKS"
grep -q "no key matches the token" "$dir/body" || fail "unknown kid: $(cat "$dir/body")"
old=$(mint k1 --exp -120) # beyond the default 30 s of clock skew
expect "$old" 401 "expired RS256 token"
grep -q "token has expired" "$dir/body" || fail "expired: $(cat "$dir/body")"

# Rotation step 1: the new key joins the file; the broker notices by itself.
jq -s '{keys: (.[0].keys + .[1].keys)}' "$dir/k1.jwks.json" "$dir/k2.jwks.json" >"$dir/both.jwks"
replace "$dir/keys.jwks" "$dir/both.jwks"
eventually "$t2" 200 "ES256 token after its key was added to the file"
expect "$t1" 200 "the old key during the overlap"

# Rotation step 2: the old key leaves; SIGHUP makes it take effect at once.
replace "$dir/keys.jwks" "$dir/k2.jwks.json"
kill -HUP "$bpid"
eventually "$t1" 401 "token of the removed key (its cached verification is dropped)"
expect "$t2" 200 "token of the remaining key"
grep -q "SIGHUP: keys reloaded" "$dir/broker.log" || fail "no reload logged on SIGHUP"

# A broken file on reload: the old keys stay in use, the error is logged.
echo '{"keys": [' >"$dir/broken.jwks"
replace "$dir/keys.jwks" "$dir/broken.jwks"
kill -HUP "$bpid"
for _ in $(seq 50); do grep -q "keys not reloaded" "$dir/broker.log" && break; sleep 0.1; done
grep -q "keys not reloaded, the old ones stay in use" "$dir/broker.log" ||
    fail "no error logged for a broken key file"
expect "$t2" 200 "token of the old keys after a failed reload"
stop_broker

# A PEM public key: RS256 verifies; an HS256 token using that very PEM as its
# HMAC secret (the classic alg confusion) does not.
start_broker -authKeyFile "$dir/k3.pub.pem" -authKeyKid k3
t3=$(mint k3)
expect "$t3" 200 "RS256 token with a PEM public key"
forged=$("$tool" mint --secret-file "$dir/k3.pub.pem" --kid k3 --sub town-1 --roles town)
expect "$forged" 401 "HS256 token keyed with the RSA public key"
grep -q "token alg does not match its key" "$dir/body" || fail "alg confusion: $(cat "$dir/body")"
stop_broker
echo "auth_keys: RS256/ES256 by kid, rotation by file change and SIGHUP, failed reload, alg confusion"
