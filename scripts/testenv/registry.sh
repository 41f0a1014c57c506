# registry: Debian's docker-registry (distribution 2.8) with htpasswd auth on loopback.
#   SLIPWAY_REGISTRY_PORT (default 45510). User `slipway`, random password made once and kept in
#   $SLIPWAY_CACHE/registry/password; blobs under $TESTENV_DIR/registry-data.
# Exports SLIPWAY_TEST_REGISTRY (host:port), SLIPWAY_TEST_REGISTRY_USER, SLIPWAY_TEST_REGISTRY_PASSWORD.
# dockerd treats 127.0.0.0/8 as an insecure registry, so push/pull over plain HTTP work as is.

: "${SLIPWAY_REGISTRY_PORT:=45510}"
REGISTRY_USER=slipway

registry_install() {
  command -v docker-registry >/dev/null && command -v htpasswd >/dev/null \
    || apt_install docker-registry apache2-utils curl
  local pw="$SLIPWAY_CACHE/registry/password"
  if [ ! -s "$pw" ]; then
    mkdir -p "$SLIPWAY_CACHE/registry"; chmod 700 "$SLIPWAY_CACHE/registry"
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$pw.tmp" && mv "$pw.tmp" "$pw")
  fi
}

registry_addr() { echo "127.0.0.1:$SLIPWAY_REGISTRY_PORT"; }

registry_export() {
  testenv_export SLIPWAY_TEST_REGISTRY "$(registry_addr)"
  testenv_export SLIPWAY_TEST_REGISTRY_USER "$REGISTRY_USER"
  testenv_export SLIPWAY_TEST_REGISTRY_PASSWORD "$(cat "$SLIPWAY_CACHE/registry/password")"
}

registry_up() {
  if is_running registry; then registry_export; return 0; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$SLIPWAY_REGISTRY_PORT") 2>/dev/null \
    && die "registry: port $SLIPWAY_REGISTRY_PORT is already in use by another program (set SLIPWAY_REGISTRY_PORT)"
  local dir="$TESTENV_DIR/registry" pw
  pw=$(cat "$SLIPWAY_CACHE/registry/password")
  mkdir -p "$dir" "$TESTENV_DIR/registry-data"; chmod 700 "$dir"
  htpasswd -Bbn "$REGISTRY_USER" "$pw" > "$dir/htpasswd"
  cat > "$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TESTENV_DIR/registry-data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $(registry_addr)
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: slipway-registry
    path: $dir/htpasswd
YAML
  start_bg registry docker-registry serve "$dir/config.yml"
  if ! wait_tcp 127.0.0.1 "$SLIPWAY_REGISTRY_PORT" 20; then
    tail -n 20 "$TESTENV_DIR/registry.log" >&2 || true
    stop_pid registry
    die "registry did not listen on $(registry_addr)"
  fi
  local with without
  with=$(curl -s -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:$pw" "http://$(registry_addr)/v2/")
  without=$(curl -s -o /dev/null -w '%{http_code}' "http://$(registry_addr)/v2/")
  if [ "$with" != 200 ] || [ "$without" != 401 ]; then
    stop_pid registry
    die "registry: /v2/ answered $with with auth and $without without (want 200 and 401)"
  fi
  registry_export
  log "registry: $(registry_addr) user $REGISTRY_USER (pid $(cat "$(pidfile registry)"))"
}

registry_down() { stop_pid registry; }

registry_status() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$(registry_addr)/v2/" 2>/dev/null || true)
  if is_running registry && [ "$code" = 401 ]; then
    echo "registry: running $(registry_addr) user $REGISTRY_USER pid $(cat "$(pidfile registry)")"
  else
    echo "registry: stopped"; return 1
  fi
}
