# moto: the local AWS stand-in (moto_server from a venv in $SLIPWAY_CACHE).
#   SLIPWAY_MOTO_PORT (default 45500). Exports SLIPWAY_TEST_MOTO_URL, SLIPWAY_MOTO_VENV.
# The venv also holds boto3, used by scripts/testenv/fault_proxy_test.py.

MOTO_VERSION=5.2.5
: "${SLIPWAY_MOTO_PORT:=45500}"
MOTO_VENV="$SLIPWAY_CACHE/venv"

moto_install() {
  local stamp="$MOTO_VENV/.slipway-moto-$MOTO_VERSION"
  [ -f "$stamp" ] && [ -x "$MOTO_VENV/bin/moto_server" ] && return 0
  apt_install python3-venv curl
  if [ ! -x "$MOTO_VENV/bin/python" ]; then
    log "creating venv $MOTO_VENV"
    /usr/bin/python3 -m venv "$MOTO_VENV"
  fi
  log "pip install moto[server]==$MOTO_VERSION boto3"
  "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" boto3 >&2
  touch "$stamp"
}

moto_url() { echo "http://127.0.0.1:$SLIPWAY_MOTO_PORT"; }

moto_export() {
  testenv_export SLIPWAY_TEST_MOTO_URL "$(moto_url)"
  testenv_export SLIPWAY_MOTO_VENV "$MOTO_VENV"
}

moto_up() {
  if is_running moto; then moto_export; return 0; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$SLIPWAY_MOTO_PORT") 2>/dev/null \
    && die "moto: port $SLIPWAY_MOTO_PORT is already in use by another program (set SLIPWAY_MOTO_PORT)"
  start_bg moto env MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$SLIPWAY_MOTO_PORT"
  if ! wait_http "$(moto_url)/moto-api/" 60 -f; then
    tail -n 20 "$TESTENV_DIR/moto.log" >&2 || true
    stop_pid moto
    die "moto did not answer on $(moto_url)"
  fi
  moto_export
  log "moto: $(moto_url) (pid $(cat "$(pidfile moto)"))"
}

moto_down() { stop_pid moto; }

moto_status() {
  if is_running moto && curl -sf -o /dev/null "$(moto_url)/moto-api/"; then
    echo "moto: running $(moto_url) pid $(cat "$(pidfile moto)")"
  else
    echo "moto: stopped"; return 1
  fi
}
