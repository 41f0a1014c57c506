# docker: Debian's dockerd (20.10), started by hand (no service manager).
#   SLIPWAY_DOCKER_SOCK (default /var/run/docker.sock). Exports DOCKER_HOST.
# dockerd runs with --userland-proxy=false (hairpin NAT, so a pod reaches its own Service) and with
# the runtime wrapper $SLIPWAY_CACHE/bin/slipway-runc as the default runtime: root here lacks
# CAP_SYS_RESOURCE, so a negative oom_score_adj (Kubernetes' dockershim asks -998 for pause
# containers) makes `runc create` fail; the wrapper sets any negative process.oomScoreAdj in the
# bundle's config.json to 0 and execs the real runc.
# dockerd starts its own containerd (a child) unless /run/containerd/containerd.sock answers;
# docker_down stops that one too if it outlives dockerd. Containers still running at docker_down get
# SIGTERM and 3 s before SIGKILL (`docker stop -t 3`, all at once), then dockerd gets SIGTERM.

: "${SLIPWAY_DOCKER_SOCK:=/var/run/docker.sock}"
DOCKER_RUNC_WRAPPER="$SLIPWAY_CACHE/bin/slipway-runc"

docker_install() {
  command -v dockerd >/dev/null && command -v runc >/dev/null && command -v iptables >/dev/null \
    || apt_install docker.io iptables containerd runc
  docker_write_wrapper
}

docker_write_wrapper() {
  local real; real=$(command -v runc)
  mkdir -p "$(dirname "$DOCKER_RUNC_WRAPPER")"
  local want
  want=$(cat <<WRAP
#!/bin/sh
# slipway-runc: dockerd's default runtime in the Slipway test environment (scripts/testenv/docker.sh).
# For create/run: a negative process.oomScoreAdj in BUNDLE/config.json becomes 0 (no
# CAP_SYS_RESOURCE here), then the real runc runs with all arguments unchanged.
REAL_RUNC=$real
cmd=""; bundle=""; prev=""
for a in "\$@"; do
  case "\$prev" in --bundle|-b) bundle=\$a ;; esac
  case "\$a" in
    --bundle=*) bundle=\${a#--bundle=} ;;
    create|run) [ -z "\$cmd" ] && cmd=\$a ;;
  esac
  prev=\$a
done
if [ -n "\$cmd" ]; then
  [ -n "\$bundle" ] || bundle=.
  cfg="\$bundle/config.json"
  if [ -f "\$cfg" ] && grep -q '"oomScoreAdj": *-' "\$cfg"; then
    /usr/bin/python3 - "\$cfg" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    cfg = json.load(f)
proc = cfg.get("process") or {}
if isinstance(proc.get("oomScoreAdj"), int) and proc["oomScoreAdj"] < 0:
    proc["oomScoreAdj"] = 0
    with open(path + ".slipway-tmp", "w") as f:
        json.dump(cfg, f)
    import os
    os.replace(path + ".slipway-tmp", path)
PY
  fi
fi
exec "\$REAL_RUNC" "\$@"
WRAP
)
  if [ ! -x "$DOCKER_RUNC_WRAPPER" ] || [ "$(cat "$DOCKER_RUNC_WRAPPER")" != "$want" ]; then
    printf '%s\n' "$want" > "$DOCKER_RUNC_WRAPPER.tmp"
    chmod 755 "$DOCKER_RUNC_WRAPPER.tmp"
    mv "$DOCKER_RUNC_WRAPPER.tmp" "$DOCKER_RUNC_WRAPPER"
  fi
}

docker_cli() { DOCKER_HOST="unix://$SLIPWAY_DOCKER_SOCK" docker "$@"; }

docker_export() { testenv_export DOCKER_HOST "unix://$SLIPWAY_DOCKER_SOCK"; }

docker_up() {
  if is_running dockerd; then docker_export; return 0; fi
  if [ -S "$SLIPWAY_DOCKER_SOCK" ] && docker_cli version >/dev/null 2>&1; then
    log "docker: a dockerd not started by testenv already serves $SLIPWAY_DOCKER_SOCK; using it" \
        "(without the slipway-runc runtime wrapper unless it was configured there)"
    docker_export; return 0
  fi
  docker_write_wrapper
  start_bg dockerd dockerd \
    --host "unix://$SLIPWAY_DOCKER_SOCK" \
    --pidfile "$TESTENV_DIR/dockerd.daemon.pid" \
    --userland-proxy=false \
    --add-runtime "slipway-runc=$DOCKER_RUNC_WRAPPER" \
    --default-runtime slipway-runc
  local i ok=
  for i in $(seq 1 300); do
    docker_cli version >/dev/null 2>&1 && { ok=1; break; }
    is_running dockerd || break
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    tail -n 30 "$TESTENV_DIR/dockerd.log" >&2 || true
    docker_down
    die "dockerd did not come up (log: $TESTENV_DIR/dockerd.log)"
  fi
  # remember the containerd that dockerd started (its child), to stop it if it outlives dockerd
  local dpid cpid; dpid=$(cat "$(pidfile dockerd)")
  cpid=$(pgrep -P "$dpid" -x containerd || true)
  if [ -n "$cpid" ]; then echo "$cpid" > "$(pidfile dockerd-containerd)"; else rm -f "$(pidfile dockerd-containerd)"; fi
  docker_export
  log "docker: unix://$SLIPWAY_DOCKER_SOCK (dockerd pid $dpid${cpid:+, containerd pid $cpid})"
}

docker_down() {
  if is_running dockerd; then
    # dockerd would give each container its own stop timeout (10 s) on SIGTERM: be quicker
    local ids; ids=$(docker_cli ps -q 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker_cli stop -t 3 $ids >/dev/null 2>&1 || true
  fi
  stop_pid dockerd TERM
  local f; f=$(pidfile dockerd-containerd)
  if [ -f "$f" ]; then
    local cpid; cpid=$(cat "$f")
    if pid_alive "$cpid" && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ]; then
      for _ in $(seq 1 50); do pid_alive "$cpid" || break; sleep 0.1; done
    fi
    if pid_alive "$cpid" && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ]; then
      stop_pid dockerd-containerd TERM
    fi
    rm -f "$f"
  fi
  rm -f "$TESTENV_DIR/dockerd.daemon.pid"
}

docker_status() {
  local v
  if v=$(docker_cli version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null); then
    if is_running dockerd; then
      echo "docker: running unix://$SLIPWAY_DOCKER_SOCK engine $v pid $(cat "$(pidfile dockerd)")"
    else
      echo "docker: running unix://$SLIPWAY_DOCKER_SOCK engine $v (not started by testenv)"
    fi
  else
    echo "docker: stopped"; return 1
  fi
}
