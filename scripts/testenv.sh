#!/usr/bin/env bash
# The test environment: every real part the test suites need, installed and started idempotently.
#   scripts/testenv.sh install [COMPONENT...]   install packages, build binaries into $SLIPWAY_CACHE
#   scripts/testenv.sh up      [COMPONENT...]   install if needed, then start (already running: no-op)
#   scripts/testenv.sh down    [COMPONENT...]   stop by PID, in reverse order
#   scripts/testenv.sh status  [COMPONENT...]   one line per component; exit 1 if any is stopped
# Tests read $TESTENV_DIR/env (source it) for endpoints, ports and credentials.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=testenv/lib.sh
. "$here/testenv/lib.sh"

ALL_COMPONENTS=(moto proxy docker registry images keyring display k8s)

cmd=${1:-status}; shift || true
components=("$@"); [ ${#components[@]} -eq 0 ] && components=("${ALL_COMPONENTS[@]}")
for c in "${components[@]}"; do
  [ -f "$here/testenv/$c.sh" ] || die "unknown component '$c' (known: ${ALL_COMPONENTS[*]})"
  # shellcheck disable=SC1090
  . "$here/testenv/$c.sh"
done

# Installs write into $SLIPWAY_CACHE, which every checkout on the machine shares (a build of the
# Kubernetes binaries, apt, the base images): one install at a time, machine-wide. Two builds of
# the same source tree at once corrupt its generated files.
locked_install() {
  exec 9>"$SLIPWAY_CACHE/.install.lock"
  flock 9
  "${1}_install"
  flock -u 9
  exec 9>&-
}

case "$cmd" in
  install) for c in "${components[@]}"; do locked_install "$c"; done ;;
  up)      for c in "${components[@]}"; do locked_install "$c"; "${c}_up"; done
           log "up: ${components[*]} (variables in $TESTENV_DIR/env)" ;;
  down)    for ((i=${#components[@]}-1; i>=0; i--)); do "${components[$i]}_down" || true; done ;;
  status)  rc=0; for c in "${components[@]}"; do "${c}_status" || rc=1; done; exit $rc ;;
  *) die "unknown command '$cmd' (use install, up, down or status)" ;;
esac
