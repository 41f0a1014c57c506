#!/usr/bin/env bash
# Installs what is missing, builds the UI and the desktop app, and starts Slipway on the local
# sandbox. Extra arguments go to the app (e.g. --data-dir DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SLIPWAY_CACHE=${SLIPWAY_CACHE:-/var/cache/slipway}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$SLIPWAY_CACHE/target}

scripts/install.sh docker
# The local Docker engine, when none answers (the sandbox deploys there).
if ! docker version >/dev/null 2>&1; then
  scripts/testenv.sh up docker
fi
# The sample app's base images (python, MariaDB, NGINX): pulled where Docker Hub answers, made
# locally from Debian's packages where it does not (like this build machine).
for image in python:3.11-slim mariadb:10.11 nginx:stable; do
  if ! docker image inspect "$image" >/dev/null 2>&1 && ! docker pull -q "$image" >/dev/null 2>&1; then
    echo "Docker Hub is not reachable: making the base images locally (a few minutes, once)." >&2
    scripts/testenv.sh up images
    break
  fi
done
(cd ui && npm ci --no-audit --no-fund --silent && npm run build)
cargo build -p slipway-desktop --features custom-protocol --locked
app="$CARGO_TARGET_DIR/debug/slipway-desktop"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: starting Slipway under Xvfb (set DISPLAY to use your screen)." >&2
  exec xvfb-run -a "$app" "$@"
fi
exec "$app" "$@"
