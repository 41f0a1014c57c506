# proxy: the fault-injecting HTTP proxy in front of moto (scripts/testenv/fault_proxy.py, stdlib only;
# its docstring documents the /__proxy__/ control API).
#   SLIPWAY_PROXY_PORT (default 45501), upstream SLIPWAY_MOTO_PORT (default 45500).
# Exports SLIPWAY_TEST_PROXY_URL. Self-test (needs moto and proxy up):
#   . $TESTENV_DIR/env && $SLIPWAY_MOTO_VENV/bin/python scripts/testenv/fault_proxy_test.py

: "${SLIPWAY_PROXY_PORT:=45501}"
: "${SLIPWAY_MOTO_PORT:=45500}"

proxy_install() { command -v /usr/bin/python3 >/dev/null || apt_install python3; }

proxy_url() { echo "http://127.0.0.1:$SLIPWAY_PROXY_PORT"; }

proxy_up() {
  if ! is_running proxy; then
    (exec 3<>"/dev/tcp/127.0.0.1/$SLIPWAY_PROXY_PORT") 2>/dev/null \
      && die "proxy: port $SLIPWAY_PROXY_PORT is already in use by another program (set SLIPWAY_PROXY_PORT)"
    start_bg proxy /usr/bin/python3 -u "$SLIPWAY_ROOT/scripts/testenv/fault_proxy.py" \
      --listen "127.0.0.1:$SLIPWAY_PROXY_PORT" --upstream "http://127.0.0.1:$SLIPWAY_MOTO_PORT"
    if ! wait_http "$(proxy_url)/__proxy__/health" 20 -f; then
      tail -n 20 "$TESTENV_DIR/proxy.log" >&2 || true
      stop_pid proxy
      die "proxy did not answer on $(proxy_url)"
    fi
    log "proxy: $(proxy_url) -> moto :$SLIPWAY_MOTO_PORT (pid $(cat "$(pidfile proxy)"))"
  fi
  testenv_export SLIPWAY_TEST_PROXY_URL "$(proxy_url)"
}

proxy_down() { stop_pid proxy; }

proxy_status() {
  if is_running proxy && curl -sf -o /dev/null "$(proxy_url)/__proxy__/health"; then
    echo "proxy: running $(proxy_url) pid $(cat "$(pidfile proxy)")"
  else
    echo "proxy: stopped"; return 1
  fi
}
