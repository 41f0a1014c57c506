#!/usr/bin/env bash
# Benchmarks of the release desktop app. Prints figures beside their targets; it is not a test
# and does not fail when a figure misses its target (only when it cannot measure).
#   1. builds the UI (only when ui/dist is older than ui/src) and the release app
#      (cargo build --release -p slipway-desktop --features custom-protocol)
#   2. under Xvfb (the test environment's display component, and its keyring's private D-Bus),
#      launches the app $SLIPWAY_BENCH_RUNS times (default 5), each with a fresh data dir and a
#      fresh HOME, the sandbox auto start on (the default), and measures:
#        - cold start to first paint: the ms the app writes to $SLIPWAY_BENCH_FIRST_PAINT_FILE
#          when the UI calls first_paint (process start -> first frame painted); median
#        - idle memory $SLIPWAY_BENCH_IDLE_S s (default 5) after first paint: VmRSS of the main
#          process, and the total with its WebKit child processes (WebKitWebProcess,
#          WebKitNetworkProcess); median. RSS counts shared library pages once per process, so
#          the total's PSS (shared pages split between processes) is shown too, as is the
#          sandbox's moto server (a child too, but not part of the app's footprint).
#      Side by side, $SLIPWAY_BENCH_COMPOSITING_RUNS (default 2) more launches with WebKit's
#      compositing forced on (WEBKIT_DISABLE_COMPOSITING_MODE=0), and the ratio of the totals
#      (the app turns compositing off where there is no GPU: src-tauri/src/renderer.rs).
#   3. the release binary's size.
# `scripts/bench.sh desktop` runs only this part.
# Every process it starts (the app, the sandbox the app starts, test-environment components that
# were not already running) is stopped by PID. Units: ms, MB = 10^6 bytes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SLIPWAY_CACHE=${SLIPWAY_CACHE:-/var/cache/slipway}
export TESTENV_DIR=${TESTENV_DIR:-/tmp/slipway-testenv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$SLIPWAY_CACHE/target}
export CARGO_TERM_COLOR=never
RUNS=${SLIPWAY_BENCH_RUNS:-5}
IDLE_S=${SLIPWAY_BENCH_IDLE_S:-5}
TARGET_FIRST_PAINT_MS=1000
TARGET_RSS_MB=150
TARGET_SIZE_MB=30

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)" >&2; }

# ---- provisioning: apply against the critical path, plan and refresh ----------------------------
# `scripts/bench.sh provision` runs only this part; `scripts/bench.sh` runs the desktop part, then
# this, then the pipeline and deploy benchmarks.
provision_bench() {
  step "provisioning benchmark (moto + fault proxy holding states 1 s per real AWS minute)"
  local started=()
  for c in moto proxy; do
    scripts/testenv.sh status "$c" >/dev/null 2>&1 || { scripts/testenv.sh up "$c" >&2; started+=("$c"); }
  done
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env"
  cargo build -q -p slipway-app --example provision_bench --locked
  "$CARGO_TARGET_DIR/debug/examples/provision_bench" || { local rc=$?; [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2; return $rc; }
  [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2
  return 0
}
if [ "${1:-}" = provision ]; then
  provision_bench
  exit 0
fi

# ---- pipelines: a run against the same docker commands by hand; 1,000,000 log lines -------------
# `scripts/bench.sh pipeline` runs only this part (a release build, since it measures throughput).
pipeline_bench() {
  step "pipeline benchmark (dockerd, registry, base images)"
  local started=()
  for c in docker registry images; do
    scripts/testenv.sh status "$c" >/dev/null 2>&1 || { scripts/testenv.sh up "$c" >&2; started+=("$c"); }
  done
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env"
  cargo build -q --release -p slipway-app --example pipeline_bench --locked
  "$CARGO_TARGET_DIR/release/examples/pipeline_bench" || { local rc=$?; [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2; return $rc; }
  [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2
  return 0
}
if [ "${1:-}" = pipeline ]; then
  pipeline_bench
  exit 0
fi

# ---- deploy: redeploy against kubectl rollout restart + rollout status ---------------------------
# `scripts/bench.sh deploy` runs only this part: the sample app deployed to the test cluster, then
# Slipway's redeploy and `kubectl rollout restart` + `kubectl rollout status` of the same
# Deployments, alternating, SLIPWAY_BENCH_RUNS rounds (default 5); prints the medians and their
# ratio (target <= 1.10). Both sides wait on watches; the cluster's own rollout time dominates, so
# a debug build measures the same as a release one.
deploy_bench() {
  step "deploy benchmark (dockerd, base images, Kubernetes control plane)"
  local started=()
  for c in docker images k8s; do
    scripts/testenv.sh status "$c" >/dev/null 2>&1 || { scripts/testenv.sh up "$c" >&2; started+=("$c"); }
  done
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env"
  cargo build -q -p slipway-app --example deploy_bench --locked
  "$CARGO_TARGET_DIR/debug/examples/deploy_bench" || { local rc=$?; [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2; return $rc; }
  [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2
  return 0
}
if [ "${1:-}" = deploy ]; then
  deploy_bench
  exit 0
fi
# ---- launch: the sandbox journey, first action to the app answering --------------------------------
# `scripts/bench.sh launch` runs `slipway launch` (the Launch page's journey, headless) on a copy of
# the sample app with a fresh data folder: the sandbox, the project, plan, apply with the first run
# alongside, deploy to live on the test cluster, and the app answering through NGINX. Base images
# are cached (the test environment's images component), and so are Docker's layers when the sample
# app was built before on this engine; the journey's images, namespaces and sandbox are removed
# afterwards. Prints the wall time split by step (target: at most 180 s).
launch_bench() {
  step "launch benchmark (sandbox journey on the test cluster)"
  local started=()
  for c in moto docker images keyring k8s; do
    scripts/testenv.sh status "$c" >/dev/null 2>&1 || { scripts/testenv.sh up "$c" >&2; started+=("$c"); }
  done
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env"
  cargo build -q -p slipway --locked
  local repo data out rc=0
  repo=$(mktemp -d /tmp/slipway-bench-launch-XXXXXX)
  data=$(mktemp -d /tmp/slipway-bench-launch-data-XXXXXX)
  cp -r examples/sample-app/. "$repo"
  git -C "$repo" -c init.defaultBranch=main init -q && git -C "$repo" add -A \
    && git -C "$repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm bench
  out="$data/launch.ndjson"
  local t0=$SECONDS
  SLIPWAY_SANDBOX_VENV=$SLIPWAY_MOTO_VENV "$CARGO_TARGET_DIR/debug/slipway" --data-dir "$data" launch "$repo" --id bench-launch --json >"$out" || rc=$?
  local wall=$((SECONDS - t0))
  python3 - "$out" "$wall" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
first = {}
for l in lines:
    if "step" in l and l["status"] == "done" and l["step"] not in first:
        first[l["step"]] = l["seconds"]
end = next((l for l in lines if "url" in l), {})
prev = 0.0
print(f"{'step':<16} {'done at (s)':>12} {'took (s)':>10}")
for step in ["connect", "project", "infrastructure", "run", "deploy", "open"]:
    t = first.get(step)
    if t is None:
        print(f"{step:<16} {'-':>12} {'-':>10}")
        continue
    print(f"{step:<16} {t:>12.1f} {t - prev:>10.1f}")
    prev = max(prev, t)
total = end.get("seconds")
print(f"launch: first action to the app answering: {total:.1f} s (wall {sys.argv[2]} s), target <= 180 s: {'ok' if total is not None and total <= 180 else 'MISSED'}" if total is not None else "launch: the app did not answer")
print(f"app: {end.get('url')} answers={end.get('answers')}")
PY
  # The journey's namespaces, images and sandbox go again.
  SLIPWAY_SANDBOX_VENV=$SLIPWAY_MOTO_VENV "$CARGO_TARGET_DIR/debug/slipway" --data-dir "$data" sandbox down >/dev/null 2>&1 || true
  "$SLIPWAY_TEST_KUBECTL" --kubeconfig "$SLIPWAY_TEST_KUBECONFIG" delete namespace bench-launch bench-launch-test --ignore-not-found --wait=false >/dev/null 2>&1 || true
  docker image ls -q --filter label=slipway.image.project=bench-launch | sort -u | xargs -r docker image rm -f >/dev/null 2>&1 || true
  rm -rf "$repo" "$data"
  [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2
  return $rc
}
if [ "${1:-}" = launch ]; then
  launch_bench
  exit 0
fi
# ---- board: a 2,000-card board in Chromium (the real commands) ------------------------------------
# `scripts/bench.sh board` runs only the board benchmark test: time to import and render 2,000 cards
# and to complete a drag (drop to shown, drop to accepted by the Rust side), printed by the test.
if [ "${1:-}" = board ]; then
  step "board benchmark (2,000 cards, Chromium, the real commands through slipway-ipc-bridge)"
  export SLIPWAY_CHROMIUM=${SLIPWAY_CHROMIUM:-/usr/bin/chromium}
  started=()
  for c in moto docker keyring; do
    scripts/testenv.sh status "$c" >/dev/null 2>&1 || { scripts/testenv.sh up "$c" >&2; started+=("$c"); }
  done
  # shellcheck disable=SC1091
  . "$TESTENV_DIR/env"
  cargo build -q -p slipway-desktop --features ipc-bridge --bin slipway-ipc-bridge --locked
  export SLIPWAY_IPC_BRIDGE="$CARGO_TARGET_DIR/debug/slipway-ipc-bridge"
  rc=0
  (cd ui && npm run -s build >/dev/null && npx vitest run --config vitest.browser.config.ts tests/browser/board.test.ts -t "benchmark") || rc=$?
  [ ${#started[@]} -gt 0 ] && scripts/testenv.sh down "${started[@]}" >&2
  exit $rc
fi
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# ---- processes -------------------------------------------------------------------------------

alive() { # PID exists and is not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
descendants() { # every descendant PID of $1
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[++n] = $1 }
    END {
      want[root] = 1; changed = 1
      while (changed) { changed = 0
        for (i = 1; i <= n; i++) { p = pids[i]; if (!(p in want) && (parent[p] in want)) { want[p] = 1; changed = 1 } } }
      for (p in want) if (p != root) print p }'
}
pss_kb() { awk '/^Pss:/ {print $2; f=1} END {if (!f) print 0}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2; f=1} END {if (!f) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }
comm() { cat "/proc/$1/comm" 2>/dev/null || true; }
wait_gone() { # PID... : up to 10 s
  local i p left
  for i in $(seq 1 200); do
    left=; for p in "$@"; do alive "$p" && left="$left $p"; done
    [ -z "$left" ] && return 0
    sleep 0.05
  done
  echo "$left"; return 1
}

# What is running now that this script started, so the exit trap can stop it.
APP_PID=; APP_DATA=; APP_KIDS=(); TMP_DIRS=(); STARTED_COMPONENTS=()

stop_app() {
  [ -n "$APP_PID" ] || return 0
  local moto='' left
  if [ -f "$APP_DATA/sandbox/moto.json" ]; then
    moto=$(sed -n 's/.*"pid"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p' "$APP_DATA/sandbox/moto.json")
  fi
  mapfile -t APP_KIDS < <(descendants "$APP_PID")
  # SIGTERM: the app exits (Tauri has no SIGTERM handler, so its exit hook does not stop the
  # sandbox); its WebKit processes follow when their IPC connection closes; the sandbox (its own
  # process group, by design) is stopped by its PID from moto.json.
  kill -TERM "$APP_PID" 2>/dev/null || true
  if ! wait_gone "$APP_PID" >/dev/null; then
    echo "bench: the app (pid $APP_PID) ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -KILL "$APP_PID" 2>/dev/null || true
  fi
  wait "$APP_PID" 2>/dev/null || true
  if [ -n "$moto" ] && alive "$moto" && grep -q moto "/proc/$moto/cmdline" 2>/dev/null; then
    kill -TERM "$moto" 2>/dev/null || true
  fi
  if ! left=$(wait_gone ${moto:+"$moto"} "${APP_KIDS[@]}"); then
    echo "bench: still running after 10 s:$left; sending SIGTERM" >&2
    for p in $left; do kill -TERM "$p" 2>/dev/null || true; done
    # shellcheck disable=SC2086 # a list of PIDs
    left=$(wait_gone $left) || echo "bench: warning: could not stop:$left" >&2
  fi
  APP_PID=; APP_KIDS=()
}

cleanup() {
  local rc=$?
  stop_app
  if [ ${#STARTED_COMPONENTS[@]} -gt 0 ]; then scripts/testenv.sh down "${STARTED_COMPONENTS[@]}" || true; fi
  if [ ${#TMP_DIRS[@]} -gt 0 ]; then rm -rf "${TMP_DIRS[@]}"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build -----------------------------------------------------------------------------------

step "ui build (when stale)"
if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/package.json ui/vite.config.ts -newer ui/dist/index.html -print -quit)" ]; then
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; } && npm run build)
else
  echo "ui/dist is up to date" >&2
fi

step "release build"
build_start=$(date +%s)
cargo build --release -p slipway-desktop --features custom-protocol
build_s=$(( $(date +%s) - build_start ))
bin="$CARGO_TARGET_DIR/release/slipway-desktop"
[ -x "$bin" ] || die "$bin was not built"

# ---- environment -----------------------------------------------------------------------------

step "test environment: display (Xvfb) and keyring (a private D-Bus)"
for c in keyring display; do
  scripts/testenv.sh status "$c" >/dev/null 2>&1 || STARTED_COMPONENTS+=("$c")
done
scripts/testenv.sh up keyring display
scripts/testenv.sh install moto   # the sandbox's virtualenv (the app reuses it: no pip install)
# shellcheck disable=SC1091 # written by scripts/testenv.sh
DISPLAY_VAR=$(. "$TESTENV_DIR/env" && echo "$DISPLAY")
# shellcheck disable=SC1091
DBUS_VAR=$(. "$TESTENV_DIR/env" && echo "$DBUS_SESSION_BUS_ADDRESS")
# shellcheck disable=SC1091
VENV=$(. "$TESTENV_DIR/env" && echo "${SLIPWAY_MOTO_VENV:-$SLIPWAY_CACHE/venv}")
[ -n "$DISPLAY_VAR" ] || die "the display component exported no DISPLAY"
[ -x "$VENV/bin/moto_server" ] || die "no moto_server in $VENV"

# ---- launches --------------------------------------------------------------------------------

# launches N [VAR=VALUE...]: N launches with these extra environment variables; fills the arrays.
launches() {
FIRST_PAINT=(); MAIN_KB=(); TOTAL_KB=(); PSS_KB=(); NWEBKIT=(); MOTO_KB=()
local n=$1; shift
for i in $(seq 1 "$n"); do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench.XXXXXX"); TMP_DIRS+=("$dir")
  mkdir -p "$dir/home"
  APP_DATA="$dir/data"
  # A clean environment: a fresh HOME (no ~/.aws, no WebKit caches), this display and bus only.
  env -i PATH="$PATH" HOME="$dir/home" LANG=C.UTF-8 USER="${USER:-root}" \
    DISPLAY="$DISPLAY_VAR" DBUS_SESSION_BUS_ADDRESS="$DBUS_VAR" \
    SLIPWAY_SANDBOX_VENV="$VENV" SLIPWAY_BENCH_FIRST_PAINT_FILE="$dir/first-paint" "$@" \
    "$bin" --data-dir "$APP_DATA" >"$dir/app.out" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 600); do
    [ -s "$dir/first-paint" ] && break
    alive "$APP_PID" || { cat "$dir/app.out" >&2; die "launch $i: the app exited before its first paint"; }
    sleep 0.02
  done
  [ -s "$dir/first-paint" ] || die "launch $i: no first paint within 12 s (log: $APP_DATA/logs/slipway-desktop.log)"
  fp=$(tr -d '[:space:]' < "$dir/first-paint")
  sleep "$IDLE_S"
  alive "$APP_PID" || die "launch $i: the app exited while idle"
  main=$(rss_kb "$APP_PID"); total=$main; pss=$(pss_kb "$APP_PID"); nweb=0; moto_kb=0; parts=
  for p in $(descendants "$APP_PID"); do
    case "$(comm "$p")" in
      WebKit*)
        kb=$(rss_kb "$p"); total=$((total + kb)); pss=$((pss + $(pss_kb "$p"))); nweb=$((nweb + 1))
        parts="$parts, $(comm "$p") $kb" ;;
      *) grep -q moto "/proc/$p/cmdline" 2>/dev/null && moto_kb=$((moto_kb + $(rss_kb "$p"))) ;;
    esac
  done
  FIRST_PAINT+=("$fp"); MAIN_KB+=("$main"); TOTAL_KB+=("$total"); PSS_KB+=("$pss"); NWEBKIT+=("$nweb"); MOTO_KB+=("$moto_kb")
  printf 'launch %d: first paint %s ms; idle RSS kB: main %s%s; total %s (PSS %s); sandbox (moto) %s\n' \
    "$i" "$fp" "$main" "$parts" "$total" "$pss" "$moto_kb" >&2
  stop_app
done
}

# Side by side: the app as it runs here (no GPU: compositing off, see src-tauri/src/renderer.rs),
# and with WebKit's compositing forced on (OpenGL on Mesa's software rasterizer).
COMPOSITING_RUNS=${SLIPWAY_BENCH_COMPOSITING_RUNS:-2}
step "$COMPOSITING_RUNS launches with compositing forced on (WEBKIT_DISABLE_COMPOSITING_MODE=0), for comparison"
launches "$COMPOSITING_RUNS" WEBKIT_DISABLE_COMPOSITING_MODE=0
ON_TOTAL_KB=("${TOTAL_KB[@]}"); ON_MAIN_KB=("${MAIN_KB[@]}")
step "$RUNS launches: first paint, then ${IDLE_S} s idle"
launches "$RUNS"

# ---- figures ---------------------------------------------------------------------------------

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {print lo "-" hi}'; }
kb_to_mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k*1024/1e6}'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t) ? "ok" : "OVER"}'; }

fp_med=$(median "${FIRST_PAINT[@]}")
main_med=$(kb_to_mb "$(median "${MAIN_KB[@]}")")
total_med=$(kb_to_mb "$(median "${TOTAL_KB[@]}")")
moto_med=$(kb_to_mb "$(median "${MOTO_KB[@]}")")
pss_med=$(kb_to_mb "$(median "${PSS_KB[@]}")")
size_bytes=$(stat -c %s "$bin")
size_mb=$(awk -v b="$size_bytes" 'BEGIN {printf "%.1f", b/1e6}')
range_mb() { local r; r=$(minmax "$@"); echo "$(kb_to_mb "${r%-*}")-$(kb_to_mb "${r#*-}")"; }
fp_range=$(minmax "${FIRST_PAINT[@]}")
main_range=$(range_mb "${MAIN_KB[@]}")
total_range=$(range_mb "${TOTAL_KB[@]}")

echo
echo "Slipway desktop benchmarks ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "binary: $bin (release build step: ${build_s} s)"
echo
printf '%-48s %-12s %-20s %-10s %s\n' "metric" "measured" "range ($RUNS runs)" "target" "result"
printf '%-48s %-12s %-20s %-10s %s\n' "------" "--------" "---------------" "------" "------"
printf '%-48s %-12s %-20s %-10s %s\n' "cold start to first paint (median)" "$fp_med ms" "$fp_range ms" "< $TARGET_FIRST_PAINT_MS ms" "$(verdict "$fp_med" $TARGET_FIRST_PAINT_MS)"
printf '%-48s %-12s %-20s %-10s %s\n' "idle RSS after ${IDLE_S} s, main process (median)" "$main_med MB" "$main_range MB" "< $TARGET_RSS_MB MB" "$(verdict "$main_med" $TARGET_RSS_MB)"
printf '%-48s %-12s %-20s %-10s %s\n' "idle RSS, main + $(median "${NWEBKIT[@]}") WebKit processes (median)" "$total_med MB" "$total_range MB" "< $TARGET_RSS_MB MB" "$(verdict "$total_med" $TARGET_RSS_MB)"
printf '%-48s %-12s %-20s %-10s %s\n' "release binary size" "$size_mb MB" "$size_bytes B" "< $TARGET_SIZE_MB MB" "$(verdict "$size_mb" $TARGET_SIZE_MB)"
printf '%-48s %-12s %-20s %-10s %s\n' "(info) main + WebKit, PSS (shared pages split)" "$pss_med MB" "" "" ""
printf '%-48s %-12s %-20s %-10s %s\n' "(info) sandbox moto server RSS (median)" "$moto_med MB" "" "" ""
on_total_med=$(kb_to_mb "$(median "${ON_TOTAL_KB[@]}")")
printf '%-48s %-12s %-20s %-10s %s\n' "(info) main + WebKit RSS, compositing forced on" "$on_total_med MB" "$(range_mb "${ON_TOTAL_KB[@]}") MB" "" ""
printf '%-48s %-12s %-20s %-10s %s\n' "(info) ratio: as run / compositing on" "$(awk -v a="$total_med" -v b="$on_total_med" 'BEGIN {printf "%.3f", a/b}')" "" "" ""

# `scripts/bench.sh desktop` stops here.
[ "${1:-}" = desktop ] && exit 0
provision_bench
pipeline_bench
deploy_bench
