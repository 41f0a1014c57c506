#!/usr/bin/env bash
# Installs what is missing, builds the UI and the desktop app, and starts Slipway on the local
# sandbox, with what the sandbox needs and this machine may lack: a Docker engine, a Secret Service
# for the keychain, and a local Kubernetes cluster for the sandbox's EKS. Extra arguments go to the
# app (e.g. --data-dir DIR).
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
# A Secret Service for the keychain, when none answers on the session bus (a fresh server, or a
# display started by xvfb-run): a private one, as the test environment runs it, and said so. Without
# one, every secret the journey keeps (the key pair, the database passwords) would fail.
secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v gdbus >/dev/null \
    && gdbus call --session --timeout 2 --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
         --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true
}
if [ "${SLIPWAY_SECRET_STORE:-}" != file ] && ! secret_service; then
  echo "No Secret Service on the session bus: starting a private one (gnome-keyring) for Slipway's keychain." >&2
  scripts/testenv.sh up keyring
  DBUS_SESSION_BUS_ADDRESS=$(sed -n 's/^export DBUS_SESSION_BUS_ADDRESS=//p' "${TESTENV_DIR:-/tmp/slipway-testenv}/env" | tail -1)
  export DBUS_SESSION_BUS_ADDRESS
fi
# A local Kubernetes cluster for the sandbox's EKS, when the kubeconfig has none of its own (kind,
# k3d, minikube, Docker Desktop, Rancher Desktop): the one the test environment builds from Debian's
# sources, on this Docker engine. The first time it builds for several minutes.
local_context() {
  local kc=${KUBECONFIG:-$HOME/.kube/config}
  kc=${kc%%:*}
  [ -f "$kc" ] && grep -Eq '^[- ]*name: *"?(kind-[^ "]+|k3d-[^ "]+|minikube|docker-desktop|rancher-desktop)"? *$' "$kc"
}
if [ -z "${SLIPWAY_SANDBOX_CONTEXT:-}" ] && ! local_context; then
  echo "No local Kubernetes cluster in the kubeconfig: starting one for the sandbox's EKS (built once, a few minutes)." >&2
  scripts/testenv.sh up k8s
  export SLIPWAY_SANDBOX_CONTEXT=slipway-test SLIPWAY_SANDBOX_KUBECONFIG="${TESTENV_DIR:-/tmp/slipway-testenv}/kubeconfig"
fi
(cd ui && npm ci --no-audit --no-fund --silent && npm run build)
cargo build -p slipway-desktop --features custom-protocol --locked
app="$CARGO_TARGET_DIR/debug/slipway-desktop"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: starting Slipway under Xvfb (set DISPLAY to use your screen)." >&2
  exec xvfb-run -a "$app" "$@"
fi
exec "$app" "$@"
