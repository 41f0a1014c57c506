# keyring: a Secret Service (gnome-keyring-daemon, secrets component) on a private D-Bus session
# bus, for the `keyring` crate. The login collection (alias "default") is created and unlocked with
# a password made once in $SLIPWAY_CACHE/keyring/password; keyring files live in
# $TESTENV_DIR/keyring/data. Exports SLIPWAY_TEST_DBUS_ADDRESS and DBUS_SESSION_BUS_ADDRESS.
# The bus has no service directories, so nothing is auto-activated on it: no second keyring daemon,
# and no gcr-prompter (which would put a dialog on $DISPLAY and wait forever). A locked collection
# therefore fails fast; see scripts/testenv/keyring-lock.sh and keyring-unlock.sh.

KEYRING_DIR="$TESTENV_DIR/keyring"
KEYRING_PASSWORD_FILE="$SLIPWAY_CACHE/keyring/password"

keyring_install() {
  local p missing=
  for p in dbus-daemon gnome-keyring-daemon secret-tool gdbus; do command -v "$p" >/dev/null || missing=1; done
  /usr/bin/python3 -c 'import gi' 2>/dev/null || missing=1
  [ -z "$missing" ] || apt_install dbus gnome-keyring libsecret-tools libglib2.0-bin python3-gi
  if [ ! -s "$KEYRING_PASSWORD_FILE" ]; then
    mkdir -p "$(dirname "$KEYRING_PASSWORD_FILE")"; chmod 700 "$(dirname "$KEYRING_PASSWORD_FILE")"
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$KEYRING_PASSWORD_FILE")
    rm -rf "$KEYRING_DIR/data"   # keyrings made with another password could not be unlocked
  fi
}

keyring_address() { echo "unix:path=$KEYRING_DIR/bus"; }

keyring_export() {
  testenv_export SLIPWAY_TEST_DBUS_ADDRESS "$(keyring_address)"
  testenv_export DBUS_SESSION_BUS_ADDRESS "$(keyring_address)"
}

keyring_has_secrets() {
  DBUS_SESSION_BUS_ADDRESS=$(keyring_address) gdbus call --session --timeout 2 --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets \
    2>/dev/null | grep -q true
}

keyring_up() {
  if is_running keyring-dbus && is_running keyring && keyring_has_secrets; then keyring_export; return 0; fi
  keyring_down
  mkdir -p "$KEYRING_DIR/run" "$KEYRING_DIR/data"; chmod 700 "$KEYRING_DIR" "$KEYRING_DIR/run" "$KEYRING_DIR/data"
  rm -f "$KEYRING_DIR/bus"
  cat > "$KEYRING_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- the session bus of the Slipway test environment: like session.conf, minus service activation -->
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>$(keyring_address)</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
  local out
  out=$(dbus-daemon --config-file="$KEYRING_DIR/bus.conf" --fork --print-address=1 --print-pid=1) \
    || die "keyring: dbus-daemon did not start"
  sed -n 2p <<<"$out" > "$(pidfile keyring-dbus)"
  DBUS_SESSION_BUS_ADDRESS=$(keyring_address) XDG_RUNTIME_DIR="$KEYRING_DIR/run" \
    XDG_DATA_HOME="$KEYRING_DIR/data" DISPLAY='' \
    setsid gnome-keyring-daemon --replace --unlock --components=secrets --foreground \
      < "$KEYRING_PASSWORD_FILE" > "$TESTENV_DIR/keyring.log" 2>&1 &
  echo $! > "$(pidfile keyring)"
  local i
  for i in $(seq 1 100); do keyring_has_secrets && break; sleep 0.1; done
  if ! keyring_has_secrets; then
    cat "$TESTENV_DIR/keyring.log" >&2 || true
    keyring_down; die "keyring: gnome-keyring-daemon did not take org.freedesktop.secrets"
  fi
  # store / lookup / clear through libsecret, as the keyring crate will
  local probe
  probe=$(printf 'probe-%s' "$$")
  if ! printf '%s' "$probe" | DBUS_SESSION_BUS_ADDRESS=$(keyring_address) \
        secret-tool store --label 'slipway testenv probe' slipway-testenv probe \
     || [ "$(DBUS_SESSION_BUS_ADDRESS=$(keyring_address) secret-tool lookup slipway-testenv probe)" != "$probe" ] \
     || ! DBUS_SESSION_BUS_ADDRESS=$(keyring_address) secret-tool clear slipway-testenv probe; then
    cat "$TESTENV_DIR/keyring.log" >&2 || true
    keyring_down; die "keyring: storing and reading a secret through secret-tool failed"
  fi
  keyring_export
  log "keyring: $(keyring_address) (dbus pid $(cat "$(pidfile keyring-dbus)"), gnome-keyring pid $(cat "$(pidfile keyring)"))"
}

keyring_down() {
  stop_pid keyring
  stop_pid keyring-dbus
  rm -f "$KEYRING_DIR/bus"
}

keyring_status() {
  if is_running keyring-dbus && is_running keyring && keyring_has_secrets; then
    local locked
    locked=$(DBUS_SESSION_BUS_ADDRESS=$(keyring_address) gdbus call --session --timeout 2 \
      --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/collection/login \
      --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked 2>/dev/null \
      | grep -q true && echo locked || echo unlocked)
    echo "keyring: running $(keyring_address) login collection $locked, pids $(cat "$(pidfile keyring-dbus)") $(cat "$(pidfile keyring)")"
  else
    echo "keyring: stopped"; return 1
  fi
}
