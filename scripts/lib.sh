# scripts/lib.sh: shared settings for Tsunagi's scripts. Sourced, not run.
#
# Everything the scripts fetch or build lives under the checkout (.cache/,
# build*/, var/), so a clean clone plus these scripts is the whole set-up.

TSUNAGI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TSUNAGI_CACHE=${TSUNAGI_CACHE:-$TSUNAGI_ROOT/.cache}
TSUNAGI_VAR=${TSUNAGI_VAR:-$TSUNAGI_ROOT/var}
MJS_VERSION=1.47.0
MJS_DIR=$TSUNAGI_CACHE/mongo-java-server-$MJS_VERSION

say() { printf '\033[1m[tsunagi]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
