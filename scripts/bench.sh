#!/usr/bin/env bash
# Benchmarks of the release desktop app. Prints figures beside their targets; it is not a test
# and does not fail when a figure misses its target (only when it cannot measure).
#   1. builds the UI (only when ui/dist is older than ui/src), then in release, with the same lock
#      file and profile: the anchor, a Tauri v2 hello-world (benches/hello-tauri: one window, one
#      HTML page), and Slipway (cargo build --release -p slipway-desktop --features
#      custom-protocol; symbols kept for the per-crate breakdown, a stripped copy is measured).
#   2. under Xvfb (the test environment's display component, and its keyring's private D-Bus),
#      launches the hello-world and Slipway alternately, $SLIPWAY_BENCH_RUNS times each (default
#      5), each with a fresh data dir and a fresh HOME (Slipway with its sandbox auto start on, the
#      default), and measures:
#        - first paint: the ms each app writes to $SLIPWAY_BENCH_FIRST_PAINT_FILE when its page
#          calls first_paint (start of main -> first frame painted), measured the same way in both;
#        - Slipway's Launch page usable: when the page has shown its state (launch_interactive,
#          written to $SLIPWAY_BENCH_INTERACTIVE_FILE), against the hello-world's first paint;
#        - idle memory $SLIPWAY_BENCH_IDLE_S s (default 5) after first paint: VmRSS of the main
#          process, and the total PSS (shared pages split between processes) with its WebKit
#          child processes (WebKitWebProcess, WebKitNetworkProcess). The sandbox's moto server (a
#          child too) is shown apart: it is not part of the app's footprint;
#        - in the first launch of each: the CPU time of the app and its WebKit processes over
#          $SLIPWAY_BENCH_CPU_S (default 60) idle seconds, as % of one core.
#      Medians, with each of Slipway's figures as a ratio to the hello-world's: absolute figures
#      are noise on a shared machine, the ratios are the figures. Also the fastest launch of each,
#      and how many launches of each waited 400+ ms more than its fastest: a window shown before
#      its page has loaded can wait 500 ms for its first frame in WebKitGTK, so both apps show
#      theirs once it has loaded; the count says whether a stall came back.
#      Before them, $SLIPWAY_BENCH_COMPOSITING_RUNS (default 2) launches of Slipway with WebKit's
#      compositing forced on (WEBKIT_DISABLE_COMPOSITING_MODE=0), for comparison (the app turns
#      compositing off where there is no GPU: src-tauri/src/renderer.rs; the hello-world gets the
#      same setting).
#   3. both binaries' sizes, the release build steps' times, and Slipway's binary by crate
#      (scripts/bench/size-by-crate.py).
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
# ratio (target <= 0.80). Both sides wait on watches; the cluster's own rollout time dominates, so
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
# Resident kB of the mappings of a file whose name matches $2, in process $1 (Mesa's libLLVM).
mapped_kb() { awk -v re="$2" '/^[0-9a-f]+-[0-9a-f]+ / {m = ($6 ~ re)} m && /^Rss:/ {s += $2} END {print s+0}' "/proc/$1/smaps" 2>/dev/null || echo 0; }
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

step "release builds: the hello-world anchor (benches/hello-tauri), then Slipway; same lock file and profile"
# Each step's time, and how many crates it compiled (a warm target dir compiles few or none).
BUILD_LOG=$(mktemp "${TMPDIR:-/tmp}/slipway-bench-build.XXXXXX"); TMP_DIRS+=("$BUILD_LOG")
t0=$(date +%s)
cargo build --release --locked -p slipway-bench-hello --features slipway-bench-hello/custom-protocol 2>&1 | tee "$BUILD_LOG" >&2
hello_build_s=$(( $(date +%s) - t0 ))
hello_crates=$(grep -c '^ *Compiling ' "$BUILD_LOG" || true)
# Slipway with its symbols kept (only its own crate's profile differs, so no dependency is built
# again): the per-crate breakdown reads them. The binary measured and launched is a copy stripped
# the way the profile's `strip = true` strips (`strip --strip-all`).
t0=$(date +%s)
cargo build --release --locked -p slipway-desktop --features slipway-desktop/custom-protocol \
  --config 'profile.release.package.slipway-desktop.strip=false' 2>&1 | tee "$BUILD_LOG" >&2
build_s=$(( $(date +%s) - t0 ))
slipway_crates=$(grep -c '^ *Compiling ' "$BUILD_LOG" || true)
hello_bin="$CARGO_TARGET_DIR/release/slipway-bench-hello"
[ -x "$hello_bin" ] || die "$hello_bin was not built"
[ -x "$CARGO_TARGET_DIR/release/slipway-desktop" ] || die "$CARGO_TARGET_DIR/release/slipway-desktop was not built"
BIN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-bin.XXXXXX"); TMP_DIRS+=("$BIN_DIR")
cp "$CARGO_TARGET_DIR/release/slipway-desktop" "$BIN_DIR/slipway-desktop.syms"
strip --strip-all -o "$BIN_DIR/slipway-desktop" "$BIN_DIR/slipway-desktop.syms"
bin="$BIN_DIR/slipway-desktop"

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
# Slipway turns WebKit's compositing off where there is no GPU render node (src-tauri/src/renderer.rs);
# the hello-world gets the same setting, so both paint the same way.
HELLO_ENV=()
compgen -G "/dev/dri/renderD*" >/dev/null || HELLO_ENV=(WEBKIT_DISABLE_COMPOSITING_MODE=1)

# ---- launches --------------------------------------------------------------------------------

# CPU time (utime + stime, in clock ticks) of PIDs, read after the `)` that ends the command name.
cpu_ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || continue
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# launch LABEL BIN CPU_S [VAR=VALUE...]: one launch with a fresh HOME and data folder; appends its
# figures to the arrays of LABEL. With CPU_S > 0, it also measures the CPU time the app and its
# WebKit processes take over CPU_S idle seconds.
declare -A FP INTERACTIVE MAIN TOTAL PSS NWEB MOTO CPU LLVM
launch() {
  local label=$1 exe=$2 cpu_s=$3; shift 3
  local dir fp main total pss nweb moto_kb parts p kb
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench.XXXXXX"); TMP_DIRS+=("$dir")
  mkdir -p "$dir/home"
  APP_DATA="$dir/data"
  # A clean environment: a fresh HOME (no ~/.aws, no WebKit caches), this display and bus only.
  env -i PATH="$PATH" HOME="$dir/home" LANG=C.UTF-8 USER="${USER:-root}" \
    DISPLAY="$DISPLAY_VAR" DBUS_SESSION_BUS_ADDRESS="$DBUS_VAR" \
    SLIPWAY_SANDBOX_VENV="$VENV" SLIPWAY_BENCH_FIRST_PAINT_FILE="$dir/first-paint" \
    SLIPWAY_BENCH_INTERACTIVE_FILE="$dir/interactive" "$@" \
    "$exe" --data-dir "$APP_DATA" >"$dir/app.out" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 600); do
    [ -s "$dir/first-paint" ] && break
    alive "$APP_PID" || { cat "$dir/app.out" >&2; die "$label: the app exited before its first paint"; }
    sleep 0.02
  done
  [ -s "$dir/first-paint" ] || die "$label: no first paint within 12 s (output: $dir/app.out)"
  fp=$(tr -d '[:space:]' < "$dir/first-paint")
  # Slipway's Launch page says when its state is shown and it can be used (the hello-world's page
  # is usable at its first paint).
  if [ "$exe" = "$bin" ]; then
    for _ in $(seq 1 600); do [ -s "$dir/interactive" ] && break; sleep 0.02; done
    [ -s "$dir/interactive" ] || die "$label: the Launch page did not become usable within 12 s of its first paint"
    INTERACTIVE[$label]+=" $(tr -d '[:space:]' < "$dir/interactive")"
  fi
  sleep "$IDLE_S"
  alive "$APP_PID" || die "$label: the app exited while idle"
  LLVM[$label]+=" $(mapped_kb "$APP_PID" libLLVM)"
  main=$(rss_kb "$APP_PID"); total=$main; pss=$(pss_kb "$APP_PID"); nweb=0; moto_kb=0; parts=
  local app_pids=("$APP_PID")
  for p in $(descendants "$APP_PID"); do
    case "$(comm "$p")" in
      WebKit*)
        kb=$(rss_kb "$p"); total=$((total + kb)); pss=$((pss + $(pss_kb "$p"))); nweb=$((nweb + 1))
        app_pids+=("$p"); parts="$parts, $(comm "$p") $kb" ;;
      *) grep -q moto "/proc/$p/cmdline" 2>/dev/null && moto_kb=$((moto_kb + $(rss_kb "$p"))) ;;
    esac
  done
  FP[$label]+=" $fp"; MAIN[$label]+=" $main"; TOTAL[$label]+=" $total"; PSS[$label]+=" $pss"
  NWEB[$label]+=" $nweb"; MOTO[$label]+=" $moto_kb"
  local cpu_note=
  if [ "$cpu_s" -gt 0 ]; then
    local before after
    before=$(cpu_ticks "${app_pids[@]}"); sleep "$cpu_s"; after=$(cpu_ticks "${app_pids[@]}")
    CPU[$label]=$(awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$cpu_s" 'BEGIN {printf "%.2f", 100 * d / hz / s}')
    cpu_note="; idle CPU over ${cpu_s} s ${CPU[$label]}% of one core"
  fi
  printf '%s: first paint %s ms; idle RSS kB: main %s%s; total %s (PSS %s); sandbox (moto) %s%s\n' \
    "$label" "$fp" "$main" "$parts" "$total" "$pss" "$moto_kb" "$cpu_note" >&2
  stop_app
}

CPU_S=${SLIPWAY_BENCH_CPU_S:-60}
# Side by side: Slipway as it runs here (no GPU: compositing off, see src-tauri/src/renderer.rs),
# and with WebKit's compositing forced on (OpenGL on Mesa's software rasterizer).
COMPOSITING_RUNS=${SLIPWAY_BENCH_COMPOSITING_RUNS:-2}
step "$COMPOSITING_RUNS launches of Slipway with compositing forced on (WEBKIT_DISABLE_COMPOSITING_MODE=0), for comparison"
for _ in $(seq 1 "$COMPOSITING_RUNS"); do launch slipway-compositing "$bin" 0 WEBKIT_DISABLE_COMPOSITING_MODE=0; done
step "$RUNS launches of each, alternating (hello-world, Slipway): first paint, then ${IDLE_S} s idle; the first of each also ${CPU_S} s of idle CPU"
for i in $(seq 1 "$RUNS"); do
  cpu=0; [ "$i" = 1 ] && cpu=$CPU_S
  launch hello "$hello_bin" "$cpu" "${HELLO_ENV[@]}"
  launch slipway "$bin" "$cpu"
done

# ---- figures ---------------------------------------------------------------------------------

# shellcheck disable=SC2086 # the arrays hold space-separated figures
median() { printf '%s\n' $* | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# shellcheck disable=SC2086
minmax() { printf '%s\n' $* | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {print lo "-" hi}'; }
kb_to_mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k*1024/1e6}'; }
range_mb() { local r; r=$(minmax "$@"); echo "$(kb_to_mb "${r%-*}")-$(kb_to_mb "${r#*-}")"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
# verdict VALUE TARGET: ok when VALUE < TARGET (or <= with a third argument "le").
verdict() { awk -v v="$1" -v t="$2" -v le="${3:-}" 'BEGIN {print ((le == "le" ? v <= t : v < t) ? "ok" : "MISSED")}'; }

size_of() { stat -c %s "$1"; }
s_size=$(size_of "$bin"); h_size=$(size_of "$hello_bin")
s_fp=$(median "${FP[slipway]}"); h_fp=$(median "${FP[hello]}")
s_main=$(kb_to_mb "$(median "${MAIN[slipway]}")"); h_main=$(kb_to_mb "$(median "${MAIN[hello]}")")
s_pss=$(kb_to_mb "$(median "${PSS[slipway]}")"); h_pss=$(kb_to_mb "$(median "${PSS[hello]}")")
s_total=$(kb_to_mb "$(median "${TOTAL[slipway]}")"); h_total=$(kb_to_mb "$(median "${TOTAL[hello]}")")
mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b/1e6}'; }

echo
echo "Slipway desktop benchmarks ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "Slipway: $CARGO_TARGET_DIR/release/slipway-desktop; anchor: $hello_bin (benches/hello-tauri, same Tauri, lock file and profile)"
echo "$RUNS launches of each, alternating; medians, ranges in brackets; MB = 10^6 bytes"
echo
row() { printf '%-36s %-22s %-22s %-7s %-14s %s\n' "$@"; }
row "figure" "Slipway" "hello-world" "ratio" "target" "result"
row "------" "-------" "-----------" "-----" "------" "------"
row "first paint (ms)" "$s_fp [$(minmax "${FP[slipway]}")]" "$h_fp [$(minmax "${FP[hello]}")]" "$(ratio "$s_fp" "$h_fp")" "ratio <= 1.2" "$(verdict "$(ratio "$s_fp" "$h_fp")" 1.2 le)"
s_int=$(median "${INTERACTIVE[slipway]}")
row "Launch page usable (ms; vs first paint)" "$s_int [$(minmax "${INTERACTIVE[slipway]}")]" "$h_fp" "$(ratio "$s_int" "$h_fp")" "ratio <= 1.5" "$(verdict "$(ratio "$s_int" "$h_fp")" 1.5 le)"
# The fastest launch of each, and how many launches stalled: a window shown before its page had
# loaded waited about 500 ms more for its first frame in some launches (both apps now show theirs
# once it has loaded), and with 5 launches a median can fall on either side of such a stall.
fastest() { printf '%s\n' $* | sort -g | head -1; }
stalled() { printf '%s\n' $* | awk -v lo="$(fastest "$@")" '$1 > lo + 400 {n++} END {print n+0}'; }
s_fp_min=$(fastest "${FP[slipway]}"); h_fp_min=$(fastest "${FP[hello]}"); s_int_min=$(fastest "${INTERACTIVE[slipway]}")
row "(info) first paint, fastest launch" "$s_fp_min" "$h_fp_min" "$(ratio "$s_fp_min" "$h_fp_min")" "" "(launches 400+ ms over their fastest: Slipway $(stalled "${FP[slipway]}"), hello $(stalled "${FP[hello]}"), of $RUNS each)"
row "(info) Launch usable, fastest launch" "$s_int_min" "$h_fp_min" "$(ratio "$s_int_min" "$h_fp_min")" "" "(vs the hello-world's fastest first paint)"
row "idle RSS, main process (MB)" "$s_main [$(range_mb "${MAIN[slipway]}")]" "$h_main [$(range_mb "${MAIN[hello]}")]" "$(ratio "$s_main" "$h_main")" "< $TARGET_RSS_MB MB" "$(verdict "$s_main" "$TARGET_RSS_MB")"
# WebKitGTK 2.50 opens an EGL display in its main process even without compositing (it aborts
# without one), and Mesa's only EGL driver here, swrast_dri.so, loads libLLVM: in both apps alike.
row "(info) of it, Mesa's libLLVM (MB)" "$(kb_to_mb "$(median "${LLVM[slipway]}")")" "$(kb_to_mb "$(median "${LLVM[hello]}")")" "" "" "(EGL's software driver, which WebKitGTK loads in both)"
row "total PSS, main + WebKit (MB)" "$s_pss [$(range_mb "${PSS[slipway]}")]" "$h_pss [$(range_mb "${PSS[hello]}")]" "$(ratio "$s_pss" "$h_pss")" "ratio <= 1.5" "$(verdict "$(ratio "$s_pss" "$h_pss")" 1.5 le)"
row "idle CPU over ${CPU_S} s (% of a core)" "${CPU[slipway]}" "${CPU[hello]}" "-" "< 1%" "$(verdict "${CPU[slipway]}" 1)"
row "binary size (MB)" "$(mb "$s_size")" "$(mb "$h_size")" "$(ratio "$s_size" "$h_size")" "< $TARGET_SIZE_MB MB" "$(verdict "$(mb "$s_size")" "$TARGET_SIZE_MB")"
row "release build step (s)" "$build_s ($slipway_crates crates)" "$hello_build_s ($hello_crates crates)" "-" "" "(crates compiled; Slipway's step reuses the anchor's Tauri crates)"
row "(info) total RSS, main + WebKit (MB)" "$s_total" "$h_total" "$(ratio "$s_total" "$h_total")" "" ""
row "(info) sandbox moto server RSS (MB)" "$(kb_to_mb "$(median "${MOTO[slipway]}")")" "-" "" "" "(not the app's: the sandbox's emulator)"
c_total=$(kb_to_mb "$(median "${TOTAL[slipway-compositing]}")")
row "(info) Slipway RSS, compositing on" "$c_total" "" "$(ratio "$s_total" "$c_total")" "" "(ratio: as run / compositing on)"
echo
echo "Slipway's binary by crate (symbols of the unstripped build; $(mb "$(size_of "$BIN_DIR/slipway-desktop.syms")") MB before strip):"
python3 scripts/bench/size-by-crate.py "$BIN_DIR/slipway-desktop.syms" 25

# `scripts/bench.sh desktop` stops here.
[ "${1:-}" = desktop ] && exit 0
provision_bench
pipeline_bench
deploy_bench
