#!/usr/bin/env bash
# Locks the default Secret Service collection of the test keyring (scripts/testenv/keyring.sh), for
# tests of "keychain locked". Undo with scripts/testenv/keyring-unlock.sh.
#   scripts/testenv/keyring-lock.sh [COLLECTION_PATH]   (default: the collection aliased "default",
#                                                        /org/freedesktop/secrets/collection/login)
#
# What a client sees afterwards (measured with gnome-keyring 42.1 on the test bus, which has no
# prompter: the bus activates no services, so org.gnome.keyring.SystemPrompter does not exist):
#   - SearchItems returns the matching items in the "locked" list and none in "unlocked";
#   - Item.GetSecret on a locked item fails with org.freedesktop.Secret.Error.IsLocked
#     ("Cannot get secret of a locked object");
#   - Service.Unlock returns no objects and a prompt path; Prompt.Prompt immediately emits
#     Completed(dismissed=true) (the daemon logs "couldn't create system prompt: ... ServiceUnknown"),
#     so a libsecret / secret-service client that unlocks on demand gets "dismissed" within ~30 ms,
#     never a hang;
#   - `secret-tool lookup` prints nothing and exits 1; `secret-tool store` fails with
#     "Cannot create an item in a locked collection".
# On a bus that can activate gcr-prompter with a DISPLAY (e.g. Xvfb), the prompt would instead open
# a password dialog and wait until someone answers it: that is why the test bus activates nothing.
set -euo pipefail
: "${TESTENV_DIR:=/tmp/slipway-testenv}"
[ -n "${SLIPWAY_TEST_DBUS_ADDRESS:-}" ] || { [ -f "$TESTENV_DIR/env" ] && . "$TESTENV_DIR/env"; }
export DBUS_SESSION_BUS_ADDRESS="${SLIPWAY_TEST_DBUS_ADDRESS:?keyring is not up (scripts/testenv.sh up keyring)}"

coll=${1:-}
if [ -z "$coll" ]; then
  coll=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.ReadAlias default | sed -n "s/.*objectpath '\([^']*\)'.*/\1/p")
  [ -n "$coll" ] && [ "$coll" != / ] || coll=/org/freedesktop/secrets/collection/login
fi
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['$coll']" >/dev/null
locked=$(gdbus call --session --dest org.freedesktop.secrets --object-path "$coll" \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked)
case "$locked" in *true*) echo "locked $coll" ;; *) echo "failed to lock $coll: $locked" >&2; exit 1 ;; esac
