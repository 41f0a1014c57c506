#!/usr/bin/env bash
# Unlocks the test keyring's default collection again (after scripts/testenv/keyring-lock.sh) without
# a prompter: gnome-keyring's UnlockWithMasterPassword with the password kept in
# $SLIPWAY_CACHE/keyring/password, over a "plain" Secret Service session (all on one D-Bus
# connection, hence python3-gi rather than gdbus).
#   scripts/testenv/keyring-unlock.sh [COLLECTION_PATH_OR_ALIAS]   (default: alias "default")
set -euo pipefail
: "${TESTENV_DIR:=/tmp/slipway-testenv}"
: "${SLIPWAY_CACHE:=/var/cache/slipway}"
[ -n "${SLIPWAY_TEST_DBUS_ADDRESS:-}" ] || { [ -f "$TESTENV_DIR/env" ] && . "$TESTENV_DIR/env"; }
export DBUS_SESSION_BUS_ADDRESS="${SLIPWAY_TEST_DBUS_ADDRESS:?keyring is not up (scripts/testenv.sh up keyring)}"

exec /usr/bin/python3 - "${1:-default}" "$SLIPWAY_CACHE/keyring/password" <<'PY'
import sys
from gi.repository import Gio, GLib

coll, pwfile = sys.argv[1], sys.argv[2]
password = open(pwfile, "rb").read()
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(path, iface, method, args, rtype=None):
    return bus.call_sync("org.freedesktop.secrets", path, iface, method, args,
                         GLib.VariantType(rtype) if rtype else None, Gio.DBusCallFlags.NONE, 10000, None)


SERVICE = "/org/freedesktop/secrets"
if not coll.startswith("/"):
    coll = call(SERVICE, "org.freedesktop.Secret.Service", "ReadAlias", GLib.Variant("(s)", (coll,)), "(o)").unpack()[0]
    if coll == "/":
        sys.exit(f"no collection has alias {sys.argv[1]!r}")
_, session = call(SERVICE, "org.freedesktop.Secret.Service", "OpenSession",
                  GLib.Variant("(sv)", ("plain", GLib.Variant("s", ""))), "(vo)").unpack()
secret = GLib.Variant("(oayays)", (session, b"", password, "text/plain"))
try:
    call(SERVICE, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", "UnlockWithMasterPassword",
         GLib.Variant.new_tuple(GLib.Variant("o", coll), secret))
except GLib.Error as e:
    sys.exit(f"failed to unlock {coll}: {e.message}")
locked = call(coll, "org.freedesktop.DBus.Properties", "Get",
              GLib.Variant("(ss)", ("org.freedesktop.Secret.Collection", "Locked")), "(v)").unpack()[0]
if locked:
    sys.exit(f"{coll} is still locked")
print("unlocked", coll)
PY
