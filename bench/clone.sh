#!/usr/bin/env bash
# Benchmark (not a test): median `git clone --bare` time of the benchmark repository through
# kallithea versus stock `git http-backend` run as CGI under lighttpd, serving the very same
# bare repository on disk, with the ratio. Target: ratio <= 1.05.
#
#   bash bench/clone.sh            # RUNS=9 COMMITS=2000 by default
#   RUNS=15 COMMITS=20000 bash bench/clone.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-9}
COMMITS=${COMMITS:-2000}
WORK=${WORK:-$ROOT/bench/work}
GEN=${GEN:-$ROOT/../shared/bench/gen_repo.py}
mkdir -p "$WORK"

if ! command -v lighttpd >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq lighttpd >/dev/null; else echo "needs lighttpd (apt-get install lighttpd)" >&2; exit 1; fi
fi
BACKEND="$(git --exec-path)/git-http-backend"

echo "building release binary..."
(cd "$ROOT" && cargo build --release -q)
BIN="$ROOT/target/release/kallithea"

SRC="$WORK/gen-$COMMITS.git"
if [ ! -d "$SRC" ]; then
  echo "generating the benchmark repository ($COMMITS commits)..."
  python3 "$GEN" "$SRC" --commits "$COMMITS" >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

INST=$(mktemp -d "$WORK/instance.XXXX")
cleanup() {
  [ -n "${KPID:-}" ] && kill "$KPID" 2>/dev/null || true
  [ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null || true
  rm -rf "$INST"
}
trap cleanup EXIT

# Our server.
KPORT=$(free_port)
(cd "$INST" && "$BIN" config-create my.ini "port=$KPORT" >/dev/null &&
  "$BIN" db-create -c my.ini --user admin --password bench-pass --email a@b.c --repos repos >/dev/null)
(cd "$INST" && KALLITHEA_LOG=warn exec "$BIN" serve -c my.ini >/dev/null 2>"$INST/kallithea.log") &
KPID=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$KPORT/" >/dev/null && break; sleep 0.1; done
JAR="$INST/jar"
tok() { curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$KPORT/_admin/session_csrf_secret_token"; }
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data "_session_csrf_secret_token=$(tok)&username=admin&password=bench-pass" "http://127.0.0.1:$KPORT/_admin/login"
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data "_session_csrf_secret_token=$(tok)&repo_name=bench&repo_type=git" "http://127.0.0.1:$KPORT/_admin/repos"
git -C "$SRC" push -q "http://admin:bench-pass@127.0.0.1:$KPORT/bench" 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*'
REPO="$INST/repos/bench"

# Stock git http-backend under lighttpd, on the same repository folder.
LPORT=$(free_port)
cat > "$INST/lighttpd.conf" <<CONF
server.document-root = "$INST"
server.port = $LPORT
server.bind = "127.0.0.1"
server.modules = ("mod_alias", "mod_cgi", "mod_setenv")
server.errorlog = "$INST/lighttpd.log"
alias.url = ("/git" => "$BACKEND")
\$HTTP["url"] =~ "^/git" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "$INST/repos", "GIT_HTTP_EXPORT_ALL" => "1")
}
CONF
lighttpd -D -f "$INST/lighttpd.conf" &
LPID=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$LPORT/git/bench/info/refs?service=git-upload-pack" >/dev/null && break; sleep 0.1; done

clone_ms() { # url
  local dest="$INST/clone" t0 t1
  rm -rf "$dest"
  t0=$(date +%s%N)
  git -c protocol.version=2 clone -q --bare "$1" "$dest"
  t1=$(date +%s%N)
  rm -rf "$dest"
  echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

OURS="http://127.0.0.1:$KPORT/bench"
THEIRS="http://127.0.0.1:$LPORT/git/bench"
# Warm up both once, then alternate so neither side gets a systematically warmer cache.
clone_ms "$OURS" >/dev/null; clone_ms "$THEIRS" >/dev/null
: > "$INST/ours"; : > "$INST/theirs"
for _ in $(seq "$RUNS"); do
  clone_ms "$OURS" >> "$INST/ours"
  clone_ms "$THEIRS" >> "$INST/theirs"
done
M_OURS=$(median < "$INST/ours")
M_THEIRS=$(median < "$INST/theirs")
SIZE=$(du -sh "$REPO" | cut -f1)
echo
echo "git clone --bare, $COMMITS-commit benchmark repository ($SIZE on disk), median of $RUNS runs"
printf '%-34s %8s ms\n' "kallithea (Rust)" "$M_OURS" "git http-backend (lighttpd CGI)" "$M_THEIRS"
awk -v a="$M_OURS" -v b="$M_THEIRS" 'BEGIN { printf "ratio kallithea / http-backend: %.3f (target <= 1.05)\n", a / b }'
