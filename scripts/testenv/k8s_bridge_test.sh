#!/usr/bin/env bash
# The docker bridge address, as k8s_bridge reads it, from the shapes `docker network inspect
# bridge` prints: with a gateway in IPAM, and without one (dockerd 20.10 for a bridge made by an
# earlier start, which is what scripts/run.sh followed by scripts/test.sh gave: "cannot find the
# docker bridge address"). Run by scripts/test.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=k8s.sh
. "$here/k8s.sh"
fail=0
check() { # NAME INSPECT_OUTPUT IP_ADDR_OUTPUT IP_ROUTE_OUTPUT WANT_GW WANT_SUB
  local name=$1
  k8s_docker() { printf '%b' "$INSPECT"; }
  ip() { case "$*" in *addr*) printf '%b' "$ADDR" ;; *route*) printf '%b' "$ROUTE" ;; esac; }
  INSPECT=$2 ADDR=$3 ROUTE=$4
  if ( k8s_bridge; [ "$K8S_IP" = "$5" ] && [ "$K8S_BRIDGE_SUBNET" = "$6" ] || { echo "got $K8S_IP $K8S_BRIDGE_SUBNET"; exit 1; } ); then
    echo "ok   $name"
  else
    echo "FAIL $name (want $5 $6)"; fail=1
  fi
}
check "gateway in IPAM" 'gw=172.18.0.1 sub=172.18.0.0/16\n' '' '' 172.18.0.1 172.18.0.0/16
check "no gateway in IPAM: docker0's address" 'gw= sub=172.17.0.0/16\n' \
  '5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n' \
  '172.17.0.0/16 scope link src 172.17.0.1 linkdown\n' 172.17.0.1 172.17.0.0/16
check "IPv6 entry first" 'gw=fd00::1 sub=fd00::/64\ngw=172.19.0.1 sub=172.19.0.0/16\n' '' '' 172.19.0.1 172.19.0.0/16
exit $fail
