#!/bin/sh
# Installs the Debian packages listed in tools/system-packages.tsv that are missing.
#   tools/setup-system.sh run    what sckb needs to run (make demo)
#   tools/setup-system.sh test   that, plus what the tests need (make test, .ci/run)
# As root with apt-get it installs what is missing and says so in one line. Otherwise it prints the
# command to run and exits 0: sckb's tests that need a missing package skip, naming that command.
set -eu
need="${1:-test}"
case "$need" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac
# SCKB_SYSTEM_PACKAGES names another list and SCKB_SETUP_DRY_RUN=1 only says what would be done (tests)
list="${SCKB_SYSTEM_PACKAGES:-$(dirname "$0")/system-packages.tsv}"

present() {  # $1 = package, $2 = probe
  if command -v dpkg-query >/dev/null 2>&1; then
    case "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" in *" installed") return 0 ;; esac
  fi
  kind="${2%%:*}"; what="${2#*:}"
  case "$kind" in
    cmd) command -v "$what" >/dev/null 2>&1 ;;
    file) [ -e "$what" ] ;;
    lib) { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true; } | grep -q "$what" ;;
    *) return 1 ;;
  esac
}

missing=""
while IFS="$(printf '\t')" read -r pkg pkgneed probe _why; do
  case "$pkg" in ''|'#'*) continue ;; esac
  [ "$need" = run ] && [ "$pkgneed" != run ] && continue
  present "$pkg" "$probe" || missing="$missing $pkg"
done < "$list"
missing="${missing# }"
[ -z "$missing" ] && exit 0

if [ -n "${SCKB_SETUP_DRY_RUN:-}" ]; then
  echo "sckb setup: would install $missing"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "sckb setup: installing $missing (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  log="$(mktemp)"
  apt-get update -qq >"$log" 2>&1 || true
  # shellcheck disable=SC2086
  if ! apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "sckb setup: apt-get install $missing failed (see above)" >&2; exit 1
  fi
  rm -f "$log"
else
  echo "sckb setup: missing $missing; install with: sudo apt-get install --no-install-recommends $missing" >&2
  echo "sckb setup: (tests that need them will skip)" >&2
fi
