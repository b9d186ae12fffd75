#!/usr/bin/env bash
# Benchmark (not a test): each browsing page of the benchmark repository timed against the git
# command that does the same work, run in this same script. Median of RUNS runs each, in ms;
# "cold" is the first request after the server starts (and, as root, after dropping the
# kernel's page cache), "warm" a repeated request.
#
#   bash bench/pages.sh                 # RUNS=7 COMMITS=2000
#   COMMITS=200000 bash bench/pages.sh  # the big repository (generating it takes minutes)
#   PAGES="summary changelog" bash bench/pages.sh   # only some rows
#   BIN=/tmp/other-build bash bench/pages.sh         # another binary (no build): A/B runs
#   MODE=restart ...                    # "cold" without dropping the page cache: the server
#                                       # restarts (its caches are empty) but files stay cached
#   MODE=first ...                      # as restart, then one request that opens the repository
#                                       # and reads its refs (a missing file) before the timed
#                                       # one: what a page not yet cached costs a running server
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-7}
COMMITS=${COMMITS:-2000}
WORK=${WORK:-$ROOT/bench/work}
GEN=${GEN:-$ROOT/../shared/bench/gen_repo.py}
mkdir -p "$WORK"

if [ -z "${BIN:-}" ]; then
  echo "building release binary..." >&2
  (cd "$ROOT" && cargo build --release -q)
  BIN="$ROOT/target/release/kallithea"
fi
SRC="$WORK/gen-$COMMITS.git"
if [ ! -d "$SRC" ]; then
  echo "generating the benchmark repository ($COMMITS commits)..." >&2
  python3 "$GEN" "$SRC" --commits "$COMMITS" >/dev/null
fi
LARGE=$(git -C "$SRC" ls-tree -r -l main | sort -k4 -n | tail -1 | cut -f2)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
INST=$(mktemp -d "$WORK/pages.XXXX")
cleanup() { [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$INST"; }
trap cleanup EXIT
PORT=$(free_port)
(cd "$INST" && "$BIN" config-create my.ini "port=$PORT" >/dev/null &&
  "$BIN" db-create -c my.ini --user admin --password bench-pass --email a@b.c --repos repos >/dev/null 2>&1)
start() {
  (cd "$INST" && KALLITHEA_LOG=warn exec "$BIN" serve -c my.ini >/dev/null 2>>"$INST/log") &
  KPID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && return; sleep 0.05; done
}
start
JAR="$INST/jar"
tok() { curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/_admin/session_csrf_secret_token"; }
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data "_session_csrf_secret_token=$(tok)&username=admin&password=bench-pass" "http://127.0.0.1:$PORT/_admin/login"
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data "_session_csrf_secret_token=$(tok)&repo_name=bench" "http://127.0.0.1:$PORT/_admin/repos"
# Fill it with a local clone (hard links: fast even for the 200,000-commit repository).
rm -rf "$INST/repos/bench"
git clone -q --bare --local "$SRC" "$INST/repos/bench"
(cd "$INST" && "$BIN" repo-scan -c my.ini >/dev/null)
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data "_session_csrf_secret_token=$(tok)&repo_landing_rev=rev:tip&repo_enable_downloads=True" "http://127.0.0.1:$PORT/bench/settings"
REPO="$INST/repos/bench"
B="http://127.0.0.1:$PORT/bench"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
MODE=${MODE:-cold}
PAGES=${PAGES:-summary changelog changeset files file annotate archive}
drop_caches() { [ "$MODE" = cold ] && [ "$(id -u)" = 0 ] && sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
page_ms() { curl -s -o /dev/null -w '%{time_total}' "$1" | awk '{printf "%.1f", $1 * 1000}'; }
cmd_ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); awk -v d=$((t1 - t0)) 'BEGIN {printf "%.1f", d / 1000000}'; }

# Each measure sets RESULT (no command substitution: the server's pid must stay in this shell).
cold_page() { # url: restart the server, drop caches, first request
  local v=()
  for _ in $(seq "$RUNS"); do
    kill "$KPID" 2>/dev/null || true; wait "$KPID" 2>/dev/null || true
    drop_caches; start
    [ "$MODE" = first ] && page_ms "$B/files/main/no-such-file" >/dev/null
    v+=("$(page_ms "$1")")
  done
  RESULT=$(printf '%s\n' "${v[@]}" | median)
}
warm_page() { page_ms "$1" >/dev/null; local v=(); for _ in $(seq "$RUNS"); do v+=("$(page_ms "$1")"); done; RESULT=$(printf '%s\n' "${v[@]}" | median); }
# The server is stopped while git runs cold: pages it has mapped (the pack index, the pack)
# survive dropping the page cache and would spare git the disk.
cold_cmd() {
  local v=()
  kill "$KPID" 2>/dev/null || true; wait "$KPID" 2>/dev/null || true
  for _ in $(seq "$RUNS"); do drop_caches; v+=("$(cmd_ms "$@")"); done
  start
  RESULT=$(printf '%s\n' "${v[@]}" | median)
}
warm_cmd() { cmd_ms "$@" >/dev/null; local v=(); for _ in $(seq "$RUNS"); do v+=("$(cmd_ms "$@")"); done; RESULT=$(printf '%s\n' "${v[@]}" | median); }

G=(git -C "$REPO")
echo "$COMMITS commits, $MODE, median of $RUNS"
printf '%-12s %10s %10s %8s   %10s %10s %8s   %s\n' page cold_ms git_cold ratio warm_ms git_warm ratio "git command"
row() { # name url git-args...
  local name=$1 url=$2; shift 2
  case " $PAGES " in *" $name "*) ;; *) return ;; esac
  local pc pw gc gw
  cold_page "$url"; pc=$RESULT; cold_cmd "${G[@]}" "$@"; gc=$RESULT
  warm_page "$url"; pw=$RESULT; warm_cmd "${G[@]}" "$@"; gw=$RESULT
  awk -v n="$name" -v pc="$pc" -v gc="$gc" -v pw="$pw" -v gw="$gw" -v c="git $*" \
    'BEGIN { printf "%-12s %10.1f %10.1f %8.2f   %10.1f %10.1f %8.2f   %s\n", n, pc, gc, pc/gc, pw, gw, pw/gw, c }'
}
row summary   "$B"                                  log -n 10 main
row changelog "$B/changelog"                        log -n 100 main
row changeset "$B/changeset/bench-10files"          show -p bench-10files
row files     "$B/files/main/"                      ls-tree main
row file      "$B/files/main/$LARGE"                cat-file -p "main:$LARGE"
row annotate  "$B/annotate/main/$LARGE"             blame main -- "$LARGE"
row archive   "$B/archive/main.tar.gz"              archive --format=tar.gz main
