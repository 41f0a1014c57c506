#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine or a warm one:
#   1. installs what is missing (apt packages, npm packages, tauri-driver) - scripts/install.sh
#   2. starts every real part the suites need - scripts/testenv.sh up (stopped again on exit)
#   3. Rust unit and integration tests (cargo nextest), the TypeScript bindings checks (types
#      from ts-rs, command functions from crates/bindgen)
#   4. UI: typecheck, Vitest, build, the UI in headless Chromium against the real commands
#      (slipway-ipc-bridge: the desktop's command handlers on Tauri's mock runtime, test builds only)
#   5. the real desktop app end to end through tauri-driver / WebKitWebDriver under Xvfb
# Heavy outputs (cargo target dir, virtualenv, Kubernetes binaries, images) are cached in
# $SLIPWAY_CACHE (default /var/cache/slipway), outside the clone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SLIPWAY_CACHE=${SLIPWAY_CACHE:-/var/cache/slipway}
export TESTENV_DIR=${TESTENV_DIR:-/tmp/slipway-testenv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$SLIPWAY_CACHE/target}
export CARGO_TERM_COLOR=never
step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }

step "install"
scripts/install.sh

step "test environment scripts: their own tests"
scripts/testenv/k8s_bridge_test.sh

step "test environment up"
cleanup() { step "test environment down"; scripts/testenv.sh down || true; }
trap cleanup EXIT
scripts/testenv.sh up
# shellcheck disable=SC1091
. "$TESTENV_DIR/env"

step "ui: install and build (the desktop app embeds ui/dist)"
(cd ui && npm ci --no-audit --no-fund && npm run build)

step "cache: superseded test binaries out of the target dir"
# Each change gives the test binaries new hashes, and cargo never deletes the old ones: in a
# long-lived cache they fill the disk (a full disk once failed a run at link time, with "ld
# terminated with signal 7"). Keeps the newest binary of each name.
deps="$CARGO_TARGET_DIR/debug/deps"
if [ -d "$deps" ]; then
  find "$deps" -maxdepth 1 -type f -perm -u+x -regextype posix-extended -regex '.*/[^/.]+-[0-9a-f]{16}' -printf '%T@ %s %f\n' |
    sort -rn |
    awk '{ name = $3; sub(/-[0-9a-f]+$/, "", name); if (seen[name]++) { print $3; freed += $2 } }
         END { printf "removed %.1f GB of superseded test binaries\n", freed / 1e9 > "/dev/stderr" }' |
    (cd "$deps" && xargs -r rm -f --)
fi
df -h "$CARGO_TARGET_DIR" | tail -1

step "rust: build"
# The desktop crate is built below: with the test-only IPC bridge for the page tests, then with
# the feature that embeds the UI (the build that ships and that the e2e drives).
cargo build --workspace --exclude slipway-desktop --exclude slipway-bench-hello --all-targets --locked
step "rust: clippy (every crate and target, warnings are errors)"
# The desktop crate with its test-only IPC bridge too (the feature only adds code).
cargo clippy --workspace --exclude slipway-bench-hello --all-targets --features slipway-desktop/ipc-bridge --locked -- -D warnings
step "rust: tests"
cargo nextest run --workspace --exclude slipway-desktop --exclude slipway-bench-hello --locked --no-fail-fast --profile ci
step "test environment: the fault proxy's own tests and the Kubernetes smoke test"
"$SLIPWAY_MOTO_VENV/bin/python" scripts/testenv/fault_proxy_test.py
scripts/testenv/k8s_smoke.sh

step "bindings are up to date"
if ! git diff --quiet -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
  git status --short ui/src/bindings
  echo "ui/src/bindings is stale: run 'cargo test -p slipway-core' and commit the result" >&2
  exit 1
fi

step "command bindings are up to date"
# ui/src/commands.generated.ts, from the #[tauri::command] functions (crates/bindgen, no desktop build).
cargo run -q --locked -p slipway-bindgen
if ! git diff --quiet -- ui/src/commands.generated.ts || [ -n "$(git ls-files --others --exclude-standard ui/src/commands.generated.ts)" ]; then
  git diff --stat -- ui/src/commands.generated.ts
  echo "ui/src/commands.generated.ts is stale: run 'cargo run -p slipway-bindgen' and commit the result" >&2
  exit 1
fi

step "ui: the IPC bridge the page tests reach the real commands through (never shipped), and its tests"
cargo build -p slipway-desktop --features ipc-bridge --bin slipway-ipc-bridge --locked
cargo nextest run -p slipway-desktop --features ipc-bridge --locked --no-fail-fast --profile ci
export SLIPWAY_IPC_BRIDGE="$CARGO_TARGET_DIR/debug/slipway-ipc-bridge"

step "ui: typecheck, unit tests, browser tests"
# The browser suites drive ui/dist (built above) through the bridge, each on a fresh data folder,
# against this environment's emulator, dockerd, registry, cluster and keyring.
(cd ui && npm run typecheck && npm test && npx vitest run --config vitest.browser.config.ts)

step "desktop: build the app and run it end to end"
cargo build -p slipway-desktop --features custom-protocol --locked
cargo nextest run -p slipway-desktop --features custom-protocol --locked --no-fail-fast --profile ci
(cd tests/e2e && npm ci --no-audit --no-fund && npm test)

step "rust: dockerd stopped and started again mid-run (last and alone: it restarts the dockerd every suite shares)"
# (the same package set as the tests above, so nothing is built again)
SLIPWAY_TEST_RESTART_DOCKERD=1 cargo nextest run --workspace --exclude slipway-desktop --exclude slipway-bench-hello --locked --profile ci \
  --run-ignored ignored-only -E 'package(slipway-app) & binary(dockerd_restart)'

step "all suites passed"
