# display: Xvfb for the desktop end-to-end tests, plus the WebDriver tooling they use.
#   SLIPWAY_DISPLAY_NUM (default 97): Xvfb :97 -screen 0 1280x900x24 -nolisten tcp -noreset.
#   tauri-driver 2.1.0 built once into $SLIPWAY_CACHE/tools/bin (cargo install, ~1 min); apt
#   webkit2gtk-driver (WebKitWebDriver) and chromium. tauri-driver itself is started by the e2e
#   harness (stop it with SIGTERM, never SIGKILL: WebKitWebDriver would keep its port).
# Exports DISPLAY, SLIPWAY_TAURI_DRIVER, SLIPWAY_WEBKIT_DRIVER, SLIPWAY_CHROMIUM.

: "${SLIPWAY_DISPLAY_NUM:=97}"
TAURI_DRIVER_VERSION=2.1.0
TAURI_DRIVER="$SLIPWAY_CACHE/tools/bin/tauri-driver"

display_install() {
  local p missing=
  for p in Xvfb xauth WebKitWebDriver chromium xdpyinfo; do command -v "$p" >/dev/null || missing=1; done
  [ -z "$missing" ] || apt_install xvfb xauth x11-utils webkit2gtk-driver chromium
  if [ ! -x "$TAURI_DRIVER" ]; then
    command -v cargo >/dev/null || die "display: cargo is needed to build tauri-driver (install Rust first)"
    local build; build=$(mktemp -d "${TMPDIR:-/tmp}/tauri-driver-build.XXXXXX")
    log "cargo install tauri-driver $TAURI_DRIVER_VERSION (about a minute)"
    # an explicit target dir, run from /: no repository cargo config or shared target lock applies
    if ! (cd / && cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked \
            --root "$SLIPWAY_CACHE/tools" --target-dir "$build" > "$TESTENV_DIR/tauri-driver-build.log" 2>&1); then
      tail -n 30 "$TESTENV_DIR/tauri-driver-build.log" >&2; rm -rf "$build"
      die "display: cargo install tauri-driver failed (log: $TESTENV_DIR/tauri-driver-build.log)"
    fi
    rm -rf "$build"
  fi
}

display_export() {
  testenv_export DISPLAY ":$SLIPWAY_DISPLAY_NUM"
  testenv_export SLIPWAY_TAURI_DRIVER "$TAURI_DRIVER"
  testenv_export SLIPWAY_WEBKIT_DRIVER "$(command -v WebKitWebDriver || echo /usr/bin/WebKitWebDriver)"
  testenv_export SLIPWAY_CHROMIUM /usr/bin/chromium
}

display_ready() { DISPLAY=":$SLIPWAY_DISPLAY_NUM" xdpyinfo >/dev/null 2>&1; }

display_up() {
  if is_running xvfb && display_ready; then display_export; return 0; fi
  is_running xvfb && stop_pid xvfb
  local n=$SLIPWAY_DISPLAY_NUM lock="/tmp/.X$SLIPWAY_DISPLAY_NUM-lock"
  if [ -f "$lock" ]; then
    local owner; owner=$(tr -d ' ' < "$lock" 2>/dev/null || true)
    if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
      die "display: :$n is held by pid $owner (not started by testenv; set SLIPWAY_DISPLAY_NUM)"
    fi
    rm -f "$lock" "/tmp/.X11-unix/X$n"   # stale, from a server that died
  fi
  # -noreset: without it the server resets whenever its last client disconnects, and a client
  # connecting during that reset fails (seen here: xdpyinfo right after another xdpyinfo).
  start_bg xvfb Xvfb ":$n" -screen 0 1280x900x24 -nolisten tcp -noreset
  local i ready=
  for i in $(seq 1 100); do display_ready && { ready=1; break; }; is_running xvfb || break; sleep 0.1; done
  if [ -z "$ready" ]; then
    local pid rc=running; pid=$(cat "$(pidfile xvfb)")
    if ! is_running xvfb; then rc=0; wait "$pid" 2>/dev/null || rc=$?; fi
    tail -n 20 "$TESTENV_DIR/xvfb.log" >&2 || true
    stop_pid xvfb; die "display: Xvfb :$n did not come up (pid $pid, exit status $rc)"
  fi
  display_export
  log "display: DISPLAY=:$n (Xvfb pid $(cat "$(pidfile xvfb)")), tauri-driver $TAURI_DRIVER"
}

display_down() { stop_pid xvfb; }

display_status() {
  if is_running xvfb && display_ready; then
    echo "display: running DISPLAY=:$SLIPWAY_DISPLAY_NUM pid $(cat "$(pidfile xvfb)"), tauri-driver $([ -x "$TAURI_DRIVER" ] && echo present || echo MISSING)"
  else
    echo "display: stopped"; return 1
  fi
}
