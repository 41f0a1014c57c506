# Shared helpers for the test environment components (sourced, never run).
# Every component lives in scripts/testenv/<name>.sh and defines
#   <name>_install   idempotent: install packages / build binaries into $SLIPWAY_CACHE
#   <name>_up        idempotent: start the service if not running, write $TESTENV_DIR/<name>.pid
#   <name>_down      stop what <name>_up started, by PID
#   <name>_status    print one line "<name>: running|stopped <details>", exit 0 if running
# and appends the variables tests need to $TESTENV_DIR/env (via testenv_export).

: "${SLIPWAY_CACHE:=/var/cache/slipway}"          # heavy reusable outputs, outside any clone
: "${TESTENV_DIR:=/tmp/slipway-testenv}"          # pid files, logs, sockets, the env file
: "${SLIPWAY_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export SLIPWAY_CACHE TESTENV_DIR SLIPWAY_ROOT
mkdir -p "$SLIPWAY_CACHE" "$TESTENV_DIR"

log() { printf '[testenv] %s\n' "$*" >&2; }
die() { printf '[testenv] error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG...: installs only what is missing (apt-get update once per run).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ ! -f "$TESTENV_DIR/.apt-updated" ]; then
    log "apt-get update"; apt-get update -qq >&2 && touch "$TESTENV_DIR/.apt-updated"
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

pidfile() { echo "$TESTENV_DIR/$1.pid"; }

# pid_alive PID: the process exists and is not a zombie (an exited daemon stays a zombie until
# PID 1 reaps it, about a second here).
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$st" ] && [ "$st" != Z ]
}

# is_running NAME: the PID in NAME's pid file is alive.
is_running() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && pid_alive "$(cat "$f")"
}

# start_bg NAME CMD...: starts CMD in the background (own session), logs to $TESTENV_DIR/NAME.log.
start_bg() {
  local name=$1; shift
  setsid "$@" >"$TESTENV_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$name")"
}

# stop_pid NAME [SIGNAL]: SIGTERM (or SIGNAL) the PID, wait up to 15 s, then SIGKILL.
stop_pid() {
  local name=$1 sig=${2:-TERM} f pid
  f=$(pidfile "$name"); [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if pid_alive "$pid"; then
    kill -s "$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && { log "$name did not stop on SIG$sig, killing"; kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

# wait_tcp HOST PORT SECONDS: waits until a TCP connect succeeds.
wait_tcp() {
  local host=$1 port=$2 secs=${3:-30} i
  for i in $(seq 1 $((secs * 10))); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_http URL SECONDS [CURL ARGS...]: waits until URL answers (any HTTP status).
wait_http() {
  local url=$1 secs=${2:-30} i; shift 2 || true
  for i in $(seq 1 $((secs * 10))); do
    curl -s -o /dev/null "$@" "$url" && return 0
    sleep 0.1
  done
  return 1
}

# testenv_export NAME VALUE: records a variable for tests in $TESTENV_DIR/env (replacing older values).
testenv_export() {
  local f="$TESTENV_DIR/env"
  touch "$f"
  grep -v "^export $1=" "$f" > "$f.tmp" || true
  printf 'export %s=%q\n' "$1" "$2" >> "$f.tmp"
  mv "$f.tmp" "$f"
}
