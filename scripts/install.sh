#!/usr/bin/env bash
# One-shot installer for a fresh Debian 12 machine (root): the packages to build the app, then every
# test environment component's install step (packages, venvs, tools, cached base rootfs).
#   scripts/install.sh                 everything (all components of scripts/testenv.sh)
#   scripts/install.sh moto docker     only those components
# Idempotent: when everything is present it only checks, in seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=testenv/lib.sh
. "$here/testenv/lib.sh"

BUILD_PACKAGES=(
  build-essential pkg-config curl ca-certificates git
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  libdbus-1-dev xvfb xauth webkit2gtk-driver python3-venv
)
apt_install "${BUILD_PACKAGES[@]}"
# Test-only tools: cloud-init validates the VMs' user data against its own schema; dbus-monitor
# (dbus-bin) watches the desktop notifications the Launch e2e expects on the test session bus.
apt_install cloud-init dbus-bin
command -v cargo >/dev/null || die "cargo is not installed: install Rust with rustup (https://rustup.rs), then run this again"
command -v npm >/dev/null || apt_install nodejs npm
if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest (first time only)"
  cargo install cargo-nextest --locked >&2
fi

"$here/testenv.sh" install "$@"
log "install: done"
