# Kubernetes component of the test environment (sourced by scripts/testenv.sh; never run directly).
#
# A real single-node cluster built from Debian bookworm's `kubernetes` source package (1.20.2):
# etcd 3.4 (from the etcd-server .deb), kube-apiserver, kube-controller-manager, kube-scheduler,
# a real kubelet using its built-in dockershim against the local dockerd (pods are docker
# containers with docker bridge addresses), kube-proxy in iptables mode (ClusterIPs, NodePorts on
# 127.0.0.1, a host connection to a NodePort without pods refused before it leaves a conntrack
# entry: k8s_nodeport_guard), and a cluster DNS (dnsmasq on the docker bridge address, fed from
# the Services).
#
#   k8s_install  apt packages; builds the six binaries into $SLIPWAY_CACHE/k8s/bin (skipped when
#                they exist; ~10 min on 2 busy cores); etcd from the .deb; the pause binary
#   k8s_up       certificates (once, $SLIPWAY_CACHE/k8s/pki), the `slipway/pause:3.2` image (when
#                missing), starts everything (~11 s), waits for the node to be Ready; exports
#                SLIPWAY_TEST_KUBECONFIG            admin kubeconfig (system:masters), context slipway-test
#                SLIPWAY_SANDBOX_CONTEXT / _KUBECONFIG  the same, as the cluster the sandbox maps EKS to
#                SLIPWAY_TEST_KUBECONFIG_FORBIDDEN  user slipway-nobody: authenticated, no RBAC rights
#                SLIPWAY_TEST_K8S_URL               https://<docker bridge address>:46443
#                SLIPWAY_TEST_K8S_CONTEXT, SLIPWAY_TEST_K8S_NODE, SLIPWAY_TEST_K8S_DNS, SLIPWAY_TEST_KUBECTL
#   k8s_down     stops everything by PID, removes the pods' containers, unmounts kubelet's
#                mounts and restores the host state (iptables KUBE-* chains, sysctls, dirs)
#   k8s_status   one line; exit 0 when running
#
# Needs a running dockerd (`scripts/testenv.sh up docker`) for k8s_up. One cluster per host.
# Images used by pods must be in that dockerd (nothing can be pulled): use a tag other than
# :latest or imagePullPolicy: IfNotPresent/Never.
#
# Settings (environment):
#   SLIPWAY_K8S_PORT          apiserver port                          (46443)
#   SLIPWAY_K8S_BIND          apiserver bind address (docker bridge address; 0.0.0.0 also works)
#   SLIPWAY_K8S_ETCD_PORT     etcd client port; peer = this + 1        (46379, loopback only)
#   SLIPWAY_K8S_KUBELET_PORT  kubelet API port (docker bridge address)  (46250)
#   SLIPWAY_K8S_CONTROLLER_MANAGER_PORT, SLIPWAY_K8S_SCHEDULER_PORT, SLIPWAY_K8S_KUBELET_HEALTHZ_PORT,
#   SLIPWAY_K8S_PROXY_HEALTHZ_PORT, SLIPWAY_K8S_PROXY_METRICS_PORT   (46257, 46259, 46248, 46256, 46249;
#                                                                      loopback only)
#   SLIPWAY_K8S_NODE          node name                               (slipway-node)
#   SLIPWAY_K8S_KUBELET_DIR   kubelet root dir                        (/var/lib/kubelet)
#   SLIPWAY_K8S_KEEP_BUILD    keep the Go build cache (2.6 GB) after building
#   SLIPWAY_DEBIAN_MIRROR     mirror for the source package (default: the system's)

K8S_HOME=$SLIPWAY_CACHE/k8s
K8S_BIN=$K8S_HOME/bin
K8S_PKI=$K8S_HOME/pki
K8S_RUN=$TESTENV_DIR/k8s
K8S_PORT=${SLIPWAY_K8S_PORT:-46443}
K8S_ETCD_PORT=${SLIPWAY_K8S_ETCD_PORT:-46379}
K8S_KUBELET_PORT=${SLIPWAY_K8S_KUBELET_PORT:-46250}
K8S_NODE=${SLIPWAY_K8S_NODE:-slipway-node}
K8S_KUBELET_DIR=${SLIPWAY_K8S_KUBELET_DIR:-/var/lib/kubelet}
K8S_ETCD_DATA=/dev/shm/slipway-k8s-etcd-$K8S_ETCD_PORT     # tmpfs: etcd fsyncs cost nothing
K8S_SERVICE_CIDR=10.96.0.0/12
K8S_SERVICE_IP=10.96.0.1
K8S_PAUSE_IMAGE=slipway/pause:3.2
K8S_GOROOT=/usr/lib/go-1.19
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# Processes, in the order k8s_down stops them (dns-sync is an API client: before the apiserver).
K8S_PROCS=(kubelet proxy scheduler controller-manager dns-sync apiserver etcd dns)

k8s_first_dir() { [ -d "$1" ] && echo "$1" || true; }    # first match of an (unquoted) glob
k8s_kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$TESTENV_DIR/kubeconfig" "$@"; }

# ---------------------------------------------------------------------------------------------
# install

# A private apt configuration (own sources list, lists and cache under $SLIPWAY_CACHE/k8s/apt):
# used for `apt-get source kubernetes` and `apt-get download etcd-server`, so the system's
# sources and package lists stay untouched.
k8s_private_apt() {
  local d=$K8S_HOME/apt mirror sec
  mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  sec=$(awk '/^URIs:/ && $2 ~ /debian-security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${SLIPWAY_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
  sec=${sec:-http://deb.debian.org/debian-security}
  mkdir -p "$d/state/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d"
  cat > "$d/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec bookworm-security main
EOF
  K8S_APT_OPTS=(-o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/sources.list.d"
                -o "Dir::State=$d/state" -o "Dir::Cache=$d/cache" -o "APT::Sandbox::User=root")
  if [ ! -f "$d/state/.updated" ]; then
    log "k8s: private apt-get update (deb-src for the kubernetes source package)"
    apt-get "${K8S_APT_OPTS[@]}" update -qq >&2 || die "k8s: private apt-get update failed"
    touch "$d/state/.updated"
  fi
}

# Fetches and unpacks Debian's kubernetes source package; swaps the vendored reflect2 1.0.1
# (unsafe with Go >= 1.18) for Debian's 1.0.2.
k8s_fetch_source() {
  local src=$K8S_HOME/src tree
  tree=$(k8s_first_dir "$src"/kubernetes-*/)
  if [ -z "$tree" ] || [ ! -f "$tree/.slipway-unpacked" ]; then
    k8s_private_apt
    rm -rf "$src"; mkdir -p "$src"
    log "k8s: apt-get source kubernetes"
    (cd "$src" && apt-get "${K8S_APT_OPTS[@]}" source -qq kubernetes >&2) || die "k8s: apt-get source kubernetes failed"
    tree=$(k8s_first_dir "$src"/kubernetes-*/)
    [ -n "$tree" ] || die "k8s: source tree not found under $src"
    rm -f "$src"/*.tar.* "$src"/*.dsc
    local r2=/usr/share/gocode/src/github.com/modern-go/reflect2
    [ -d "$r2" ] || die "k8s: $r2 missing (golang-github-modern-go-reflect2-dev)"
    rm -f "$tree/vendor/github.com/modern-go/reflect2/"*.go
    cp "$r2"/*.go "$tree/vendor/github.com/modern-go/reflect2/"
    rm -f "$tree/vendor/github.com/modern-go/reflect2/"*_test.go
    touch "$tree/.slipway-unpacked"
  fi
  K8S_TREE=${tree%/}
}

k8s_build() {
  local missing=() b
  for b in "${K8S_BINARIES[@]}"; do [ -x "$K8S_BIN/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  k8s_fetch_source
  log "k8s: building ${missing[*]} from $(basename "$K8S_TREE") (several minutes)"
  local what=() t0=$SECONDS
  for b in "${missing[@]}"; do what+=("cmd/$b"); done
  # make -j1 and GOMAXPROCS=2 (go build -p follows it): the machine is shared (2 cores).
  # No GOFLAGS: hack/lib/golang.sh pastes it into -tags. The tree's vendor/ is used (go.mod says 1.15).
  (cd "$K8S_TREE" && env -u GOFLAGS PATH="$K8S_GOROOT/bin:$PATH" GOROOT="$K8S_GOROOT" CGO_ENABLED=0 GOPROXY=off \
      GOMAXPROCS=2 GOCACHE="$K8S_HOME/gocache" GOPATH="$K8S_HOME/gopath" \
      KUBE_VERBOSE=0 nice -n 10 make -j1 WHAT="${what[*]}" >"$K8S_HOME/build.log" 2>&1) \
    || { tail -30 "$K8S_HOME/build.log" >&2; die "k8s: build failed (log: $K8S_HOME/build.log)"; }
  mkdir -p "$K8S_BIN"
  for b in "${missing[@]}"; do
    install -m 0755 "$K8S_TREE/_output/local/bin/linux/amd64/$b" "$K8S_BIN/$b" 2>/dev/null \
      || install -m 0755 "$K8S_TREE/_output/bin/$b" "$K8S_BIN/$b" \
      || die "k8s: $b not produced by the build"
  done
  # _output holds the Go build cache (~2.6 GB); the binaries are all that is kept.
  [ -n "${SLIPWAY_K8S_KEEP_BUILD:-}" ] || rm -rf "$K8S_TREE/_output"
  log "k8s: build done in $((SECONDS - t0)) s"
}

k8s_etcd_binary() {
  [ -x "$K8S_BIN/etcd" ] && return 0
  k8s_private_apt
  local tmp; tmp=$(mktemp -d)
  log "k8s: apt-get download etcd-server"
  (cd "$tmp" && apt-get "${K8S_APT_OPTS[@]}" download -qq etcd-server >&2) || { rm -rf "$tmp"; die "k8s: downloading etcd-server failed"; }
  dpkg-deb -x "$tmp"/etcd-server_*.deb "$tmp/x"
  mkdir -p "$K8S_BIN"
  install -m 0755 "$tmp/x/usr/bin/etcd" "$K8S_BIN/etcd"
  rm -rf "$tmp"
}

# The pause binary of the image $K8S_PAUSE_IMAGE (FROM scratch; the image itself is made in k8s_up,
# when dockerd runs).
k8s_pause_binary() {
  local d=$K8S_HOME/pause
  [ -x "$d/pause" ] && [ -f "$d/Dockerfile" ] && return 0
  k8s_fetch_source
  mkdir -p "$d"
  gcc -Os -static -Wall -Werror -DVERSION=v3.2-slipway -o "$d/pause" "$K8S_TREE/build/pause/linux/pause.c" \
    || gcc -Os -static -DVERSION=v3.2-slipway -o "$d/pause" "$K8S_TREE/build/pause/linux/pause.c" \
    || die "k8s: compiling pause.c failed"
  strip "$d/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$d/Dockerfile"
}

k8s_install() {
  local pkgs=(golang-1.19-go golang-github-modern-go-reflect2-dev dpkg-dev gcc libc6-dev make rsync
              conntrack ethtool ebtables iptables openssl dnsmasq-base util-linux procps iproute2 curl socat)
  for _ in 1 2 3; do apt_install "${pkgs[@]}" && break; log "k8s: apt busy? retrying"; sleep 10; done
  apt_install "${pkgs[@]}"
  k8s_build
  k8s_etcd_binary
  k8s_pause_binary
}

# ---------------------------------------------------------------------------------------------
# helpers for up / down

K8S_SELF=$(readlink -f "${BASH_SOURCE[0]}")
K8S_LIB=$(dirname "$K8S_SELF")/lib.sh
: "${SLIPWAY_DOCKER_SOCK:=/var/run/docker.sock}"
K8S_CM_PORT=${SLIPWAY_K8S_CONTROLLER_MANAGER_PORT:-46257}   # these four listen on 127.0.0.1 only
K8S_SCHED_PORT=${SLIPWAY_K8S_SCHEDULER_PORT:-46259}
K8S_KUBELET_HEALTHZ_PORT=${SLIPWAY_K8S_KUBELET_HEALTHZ_PORT:-46248}
K8S_PROXY_HEALTHZ_PORT=${SLIPWAY_K8S_PROXY_HEALTHZ_PORT:-46256}
K8S_PROXY_METRICS_PORT=${SLIPWAY_K8S_PROXY_METRICS_PORT:-46249}
# Kernel settings kubelet and kube-proxy may change (kubelet's kernel tunables, kube-proxy's
# route_localnet, the no-op network plugin's bridge-nf-call-*); saved at up, restored at down.
K8S_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
             kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward
             net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
             net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max
             net.netfilter.nf_conntrack_tcp_timeout_established
             net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Host paths kubelet creates; the ones that did not exist before up are removed at down.
K8S_HOST_DIRS=("$K8S_KUBELET_DIR" /var/log/pods /var/log/containers /var/lib/dockershim)

# kubelet, kube-proxy and the cluster DNS use host-wide resources (/var/lib/kubelet, iptables, port
# 53 on the bridge): one cluster per host. This file names the TESTENV_DIR that runs it, so that
# a `down` in another TESTENV_DIR leaves it alone.
K8S_OWNER_FILE=/run/slipway-testenv-k8s.owner

k8s_docker() { DOCKER_HOST="unix://$SLIPWAY_DOCKER_SOCK" DOCKER_BUILDKIT=0 docker "$@"; }

# The docker bridge: its gateway address (docker0) and subnet. Pods get addresses there.
k8s_bridge() {
  local gw sub
  # Gateway and subnet as "gw=... sub=..." so an empty gateway (dockerd 20.10 leaves it out of
  # IPAM for a bridge it made before, e.g. when another script started dockerd first) cannot
  # shift the subnet into the gateway's place.
  local line
  line=$(k8s_docker network inspect bridge \
      --format '{{range .IPAM.Config}}gw={{.Gateway}} sub={{.Subnet}}{{"\n"}}{{end}}' 2>/dev/null | grep -m1 'sub=[0-9]') || true
  gw=$(sed -n 's/.*gw=\([0-9.]*\) .*/\1/p' <<<"$line"); sub=$(sed -n 's/.*sub=\([0-9./]*\).*/\1/p' <<<"$line")
  if [ -z "${gw:-}" ] || [ -z "${sub:-}" ]; then
    gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{split($4,a,"/"); print a[1]; exit}')
    sub=$(ip -4 -o route show dev docker0 proto kernel 2>/dev/null | awk '{print $1; exit}')
  fi
  [ -n "$gw" ] && [ -n "$sub" ] || die "k8s: cannot find the docker bridge address (docker network inspect bridge)"
  K8S_IP=$gw; K8S_BRIDGE_SUBNET=$sub
}

# k8s_cert NAME CN ORG(or "") USAGE(client|server) [SANS]: key + certificate signed by the CA.
k8s_cert() {
  local name=$1 cn=$2 org=$3 usage=$4 sans=${5:-} d=$K8S_PKI subj
  [ -s "$d/$name.crt" ] && [ -s "$d/$name.key" ] && return 0
  subj="/CN=$cn"; [ -n "$org" ] && subj="/O=$org/CN=$cn"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ "$usage" = server ]; then echo "extendedKeyUsage=serverAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } > "$d/$name.ext"
  openssl genrsa -out "$d/$name.key" 2048 2>/dev/null
  openssl req -new -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -sha256 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null || die "k8s: signing $name failed"
  rm -f "$d/$name.csr" "$d/$name.ext"
}

# Certificates: made once into $SLIPWAY_CACHE/k8s/pki; serving certificates are remade when
# the docker bridge address is not among their SANs.
k8s_pki() {
  local d=$K8S_PKI c
  mkdir -p "$d"; chmod 700 "$d"
  if [ ! -s "$d/ca.crt" ] || [ ! -s "$d/ca.key" ]; then
    log "k8s: generating the test CA and certificates in $d"
    rm -f "$d"/*.crt "$d"/*.key "$d"/*.pub
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 \
      -subj "/CN=slipway-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null || die "k8s: CA generation failed"
  fi
  if [ ! -s "$d/sa.key" ]; then
    openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
    openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  fi
  for c in apiserver kubelet-serving-$K8S_NODE; do
    if [ -s "$d/$c.crt" ] && ! openssl x509 -in "$d/$c.crt" -noout -text | grep -q "IP Address:$K8S_IP\(,\|$\)"; then
      rm -f "$d/$c.crt" "$d/$c.key"
    fi
  done
  k8s_cert apiserver kube-apiserver "" server \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$K8S_NODE,IP:127.0.0.1,IP:$K8S_SERVICE_IP,IP:$K8S_IP"
  k8s_cert "kubelet-serving-$K8S_NODE" "$K8S_NODE" "" server "DNS:$K8S_NODE,DNS:localhost,IP:127.0.0.1,IP:$K8S_IP"
  k8s_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
  k8s_cert front-proxy-client front-proxy-client "" client   # the apiserver's aggregation client
  k8s_cert admin slipway-admin system:masters client
  k8s_cert nobody slipway-nobody "" client                    # no RBAC rights at all
  k8s_cert controller-manager system:kube-controller-manager "" client
  k8s_cert scheduler system:kube-scheduler "" client
  k8s_cert kube-proxy system:kube-proxy "" client
  k8s_cert "kubelet-$K8S_NODE" "system:node:$K8S_NODE" system:nodes client
}

# k8s_kubeconfig FILE CERTNAME [embed]: a kubeconfig for the user of pki/CERTNAME.crt, context
# `slipway-test`. With `embed` the certificates are inlined (files handed to tests).
k8s_kubeconfig() {
  local f=$1 c=$2 embed=${3:-} user
  user=$(openssl x509 -in "$K8S_PKI/$c.crt" -noout -subject -nameopt multiline | awk -F' = ' '/commonName/ {print $2}')
  if [ "$embed" = embed ]; then
    cat > "$f.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: slipway-test
  cluster:
    server: $K8S_URL
    certificate-authority-data: $(base64 -w0 < "$K8S_PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$K8S_PKI/$c.crt")
    client-key-data: $(base64 -w0 < "$K8S_PKI/$c.key")
contexts:
- name: slipway-test
  context: {cluster: slipway-test, user: $user, namespace: default}
current-context: slipway-test
KC
  else
    cat > "$f.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: slipway-test
  cluster: {server: "$K8S_URL", certificate-authority: "$K8S_PKI/ca.crt"}
users:
- name: $user
  user: {client-certificate: "$K8S_PKI/$c.crt", client-key: "$K8S_PKI/$c.key"}
contexts:
- name: slipway-test
  context: {cluster: slipway-test, user: $user}
current-context: slipway-test
KC
  fi
  chmod 600 "$f.tmp"; mv "$f.tmp" "$f"
}

k8s_pause_image() {
  k8s_docker image inspect "$K8S_PAUSE_IMAGE" >/dev/null 2>&1 && return 0
  [ -x "$K8S_HOME/pause/pause" ] || k8s_pause_binary
  log "k8s: building image $K8S_PAUSE_IMAGE (FROM scratch, pause.c)"
  k8s_docker build -q -t "$K8S_PAUSE_IMAGE" "$K8S_HOME/pause" >/dev/null || die "k8s: building $K8S_PAUSE_IMAGE failed"
}

k8s_sysctl_path() { echo "/proc/sys/${1//.//}"; }

k8s_save_host_state() {
  local d=$K8S_RUN/hoststate s p
  [ -f "$d/complete" ] && return 0    # a snapshot from an up never followed by a down: keep it
  mkdir -p "$d"
  iptables-save > "$d/iptables.rules" 2>/dev/null || true
  ip6tables-save > "$d/ip6tables.rules" 2>/dev/null || true
  for s in "${K8S_SYSCTLS[@]}"; do
    p=$(k8s_sysctl_path "$s"); [ -r "$p" ] && printf '%s %s\n' "$s" "$(cat "$p")"
  done > "$d/sysctl"
  for p in "${K8S_HOST_DIRS[@]}"; do [ -e "$p" ] && echo "$p"; done > "$d/existing-paths"
  touch "$d/complete"
}

# Removes every KUBE-* chain and every rule jumping to one (kubelet's and kube-proxy's), in all
# tables, for IPv4 and IPv6. Docker's and other rules stay as they are: restoring the whole
# iptables-save snapshot would also undo what dockerd did meanwhile.
k8s_iptables_cleanup() {
  local ipt t save rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt-save" >/dev/null || continue
    for t in filter nat mangle raw; do
      save=$("$ipt-save" -t "$t" 2>/dev/null) || continue
      grep -q 'KUBE-' <<<"$save" || continue
      while IFS= read -r rule; do
        eval "$ipt -w -t $t -D ${rule#-A }" 2>/dev/null || true
      done < <(grep -E '^-A ' <<<"$save" | grep -Ev '^-A KUBE-' | grep -E -- '-j KUBE-')
      for chain in $(grep -oE '^:KUBE-[^ ]+' <<<"$save" | tr -d :); do "$ipt" -w -t "$t" -F "$chain" 2>/dev/null || true; done
      for chain in $(grep -oE '^:KUBE-[^ ]+' <<<"$save" | tr -d :); do "$ipt" -w -t "$t" -X "$chain" 2>/dev/null || true; done
    done
  done
}

# Refuses, in OUTPUT, a host connection to a NodePort that kube-proxy did not DNAT (a Service
# without ready pods yet, or rules not synced yet). kube-proxy 1.20 refuses it later, in INPUT,
# after the kernel has confirmed the connection's conntrack entry, without DNAT, for 120 s: a
# later connection from the same address and source port matched that entry, reached the port
# kube-proxy holds open but never serves, and hung (one request in a few hundred, just after a
# deploy). Refused here, the entry is never confirmed. Its KUBE- name puts it in the cleanup.
k8s_nodeport_guard() {
  local c=KUBE-SLIPWAY-NODEPORT-GUARD
  iptables -w -N "$c" 2>/dev/null || iptables -w -F "$c"
  iptables -w -A "$c" -p tcp --dport 30000:32767 -m addrtype --dst-type LOCAL -m conntrack --ctstate NEW \
    -m conntrack ! --ctstate DNAT -j REJECT --reject-with tcp-reset
  iptables -w -C OUTPUT -j "$c" 2>/dev/null || iptables -w -I OUTPUT -j "$c"
}

k8s_restore_host_state() {
  local d=$K8S_RUN/hoststate s v p
  k8s_iptables_cleanup
  if iptables-save 2>/dev/null | grep -q 'KUBE-'; then log "k8s: warning: KUBE-* iptables rules remain"; fi
  [ -f "$d/complete" ] || return 0
  while read -r s v; do
    p=$(k8s_sysctl_path "$s")
    [ -w "$p" ] && [ "$(cat "$p")" != "$v" ] && { echo "$v" > "$p" 2>/dev/null || log "k8s: could not restore $s=$v"; }
  done < "$d/sysctl"
  for p in "${K8S_HOST_DIRS[@]}"; do
    grep -qxF "$p" "$d/existing-paths" && continue
    [ -e "$p" ] || continue
    if awk -v d="$p" '$2 == d || index($2, d "/") == 1 {found=1} END {exit !found}' /proc/self/mounts; then
      log "k8s: $p still has mounts, left in place"
    else
      rm -rf "$p"
    fi
  done
  rm -rf "$d"
}

# kubelet bind-mounts its root dir onto itself (to make it a shared mount) and mounts the pods'
# volumes (secrets: tmpfs) below it.
k8s_unmount_kubelet() {
  local m
  awk -v d="$K8S_KUBELET_DIR" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    m=$(printf '%b' "$m")     # /proc/mounts escapes spaces as \040
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "k8s: could not unmount $m"
  done
}

# The pods' containers (dockershim names them k8s_* and labels them io.kubernetes.pod.name).
k8s_remove_pod_containers() {
  k8s_docker version >/dev/null 2>&1 || { log "k8s: docker not reachable; pod containers (if any) not removed"; return 0; }
  local ids
  ids=$( { k8s_docker ps -aq --filter label=io.kubernetes.pod.name
           k8s_docker ps -a --format '{{.ID}} {{.Names}}' | awk '$2 ~ /^k8s_/ {print $1}'; } | sort -u) || true
  [ -z "$ids" ] && return 0
  log "k8s: removing $(wc -w <<<"$ids") pod containers"
  # shellcheck disable=SC2086
  k8s_docker rm -f -v $ids >/dev/null 2>&1 || log "k8s: docker rm of some pod containers failed"
}

# k8s_alive PID: the process exists and is not a zombie (orphans are reaped by PID 1, which may
# take a while here).
k8s_alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }

k8s_running() { local f; f=$(pidfile "k8s-$1"); [ -f "$f" ] && k8s_alive "$(cat "$f")"; }

# k8s_stop NAME: SIGTERM the process group started by start_bg (setsid: group id = PID), wait up
# to 15 s, then SIGKILL the group.
k8s_stop() {
  local f pid
  f=$(pidfile "k8s-$1"); [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if k8s_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do k8s_alive "$pid" || break; sleep 0.1; done
    if k8s_alive "$pid"; then
      log "k8s: $1 did not stop on SIGTERM, killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  # stragglers of the group (children of the leader)
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$f"
}

# k8s_wait SECONDS "PROC..." COMMAND...: polls COMMAND every 0.25 s; gives up early when one of
# the named processes (k8s-PROC) has exited.
k8s_wait() {
  local secs=$1 procs=$2 p; shift 2
  for _ in $(seq 1 $((secs * 4))); do
    "$@" >/dev/null 2>&1 && return 0
    for p in $procs; do k8s_running "$p" || return 1; done
    sleep 0.25
  done
  return 1
}

k8s_proc_alive() { local p; for p in "$@"; do k8s_running "$p" || { log "k8s: $p exited (log: $TESTENV_DIR/k8s-$p.log)"; tail -n 20 "$TESTENV_DIR/k8s-$p.log" >&2; return 1; }; done; }

k8s_fail() { log "k8s: $*"; k8s_down; die "k8s: $* (logs: $TESTENV_DIR/k8s-*.log)"; }

# ---------------------------------------------------------------------------------------------
# cluster DNS: dnsmasq on the docker bridge address answers <svc>.<ns>.svc.cluster.local,
# <svc>.<ns>.svc and <svc>.<ns> from a hosts file that k8s_dns_sync_loop keeps in step with the
# Services (ClusterIP; headless Services get their endpoints' addresses). Other names go to the
# host's resolvers (/etc/resolv.conf). ExternalName Services are not served.

k8s_dns_render() {
  local tmpl='{{range .items}}{{if eq .kind "Service"}}S {{.metadata.namespace}} {{.metadata.name}} {{.spec.clusterIP}}
{{else}}{{$ns := .metadata.namespace}}{{$n := .metadata.name}}{{range .subsets}}{{range .addresses}}E {{$ns}} {{$n}} {{.ip}}
{{end}}{{end}}{{end}}{{end}}'
  k8s_kubectl get services,endpoints -A -o go-template="$tmpl" | awk -v dom=cluster.local '
    function names(ns, n) { return n "." ns ".svc." dom " " n "." ns ".svc " n "." ns }
    $1 == "S" { if ($4 ~ /^[0-9.]+$/) print $4, names($2, $3); else if ($4 == "None") headless[$2 "/" $3] = 1; next }
    $1 == "E" { ep[++n] = $2 " " $3 " " $4 }
    END { for (i = 1; i <= n; i++) { split(ep[i], f, " "); if (f[1] "/" f[2] in headless) print f[3], names(f[1], f[2]) } }' | sort
}

k8s_dns_sync_once() {
  local out=$K8S_RUN/dns/hosts
  k8s_dns_render > "$out.new" 2>>"$K8S_RUN/dns/sync.err" || { rm -f "$out.new"; return 1; }
  if cmp -s "$out.new" "$out"; then rm -f "$out.new"; return 0; fi
  mv "$out.new" "$out"
  kill -HUP "$(cat "$(pidfile k8s-dns)")" 2>/dev/null || true    # dnsmasq rereads its hosts files
}

# One line per change of an Endpoints object (the endpoints controller makes one for every Service
# with a selector, so Services coming and going show up here too); restarts when the watch ends.
k8s_dns_watch() {
  while :; do
    echo "(re)started"
    k8s_kubectl get endpoints -A --watch-only -o name --request-timeout=0 2>>"$K8S_RUN/dns/sync.err" || true
    sleep 1
  done
}

# Runs as its own process (k8s-dns-sync): resyncs on every change (bursts merged) and every 10 s
# (which also covers Services without a selector).
k8s_dns_sync_loop() {
  k8s_dns_sync_once || true
  k8s_dns_watch | while :; do
    read -r -t 10 _; [ $? -eq 1 ] && exit 0         # 1 = EOF (the watcher is gone); >128 = timeout
    while read -r -t 0.2 _; do :; done
    k8s_dns_sync_once || true
  done
}

# ---------------------------------------------------------------------------------------------
# up / down / status

k8s_export() {
  testenv_export SLIPWAY_TEST_KUBECONFIG "$TESTENV_DIR/kubeconfig"
  # The sandbox maps EKS to a local cluster: in the tests, this one.
  testenv_export SLIPWAY_SANDBOX_CONTEXT slipway-test
  testenv_export SLIPWAY_SANDBOX_KUBECONFIG "$TESTENV_DIR/kubeconfig"
  testenv_export SLIPWAY_TEST_KUBECONFIG_FORBIDDEN "$TESTENV_DIR/kubeconfig-forbidden"
  testenv_export SLIPWAY_TEST_K8S_URL "$(cat "$K8S_RUN/url")"
  testenv_export SLIPWAY_TEST_K8S_CONTEXT slipway-test
  testenv_export SLIPWAY_TEST_K8S_NODE "$K8S_NODE"
  testenv_export SLIPWAY_TEST_K8S_DNS "$(cat "$K8S_RUN/dns-ip")"
  testenv_export SLIPWAY_TEST_KUBECTL "$K8S_BIN/kubectl"
}

k8s_all_running() { local p; for p in "${K8S_PROCS[@]}"; do k8s_running "$p" || return 1; done; }

k8s_write_configs() {
  local r=$K8S_RUN
  mkdir -p "$r/dns" "$r/apiserver-certs" "$r/cm-certs" "$r/sched-certs"
  k8s_kubeconfig "$TESTENV_DIR/kubeconfig" admin embed
  k8s_kubeconfig "$TESTENV_DIR/kubeconfig-forbidden" nobody embed
  k8s_kubeconfig "$r/controller-manager.kubeconfig" controller-manager
  k8s_kubeconfig "$r/scheduler.kubeconfig" scheduler
  k8s_kubeconfig "$r/kube-proxy.kubeconfig" kube-proxy
  k8s_kubeconfig "$r/kubelet.kubeconfig" "kubelet-$K8S_NODE"
  cat > "$r/kubelet.yaml" <<EOC
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $K8S_IP
port: $K8S_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $K8S_KUBELET_HEALTHZ_PORT
tlsCertFile: $K8S_PKI/kubelet-serving-$K8S_NODE.crt
tlsPrivateKeyFile: $K8S_PKI/kubelet-serving-$K8S_NODE.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $K8S_PKI/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
# No kubepods cgroup hierarchy: pods' containers sit in docker's own cgroups (limits still apply).
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
nodeStatusUpdateFrequency: 2s
clusterDNS: [$K8S_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# Root here lacks CAP_SYS_RESOURCE: no negative OOM scores.
oomScoreAdj: 0
# Never garbage-collect images (other test components' images live in the same dockerd) and
# never evict pods because of a full-ish disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
serializeImagePulls: false
EOC
  cat > "$r/kube-proxy.yaml" <<EOC
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
bindAddress: $K8S_IP
hostnameOverride: $K8S_NODE
clientConnection: {kubeconfig: $r/kube-proxy.kubeconfig}
clusterCIDR: $K8S_BRIDGE_SUBNET
# NodePorts answer on loopback and on the docker bridge only (not on the host's other interfaces).
nodePortAddresses: ["127.0.0.0/8", "$K8S_BRIDGE_SUBNET"]
healthzBindAddress: 127.0.0.1:$K8S_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$K8S_PROXY_METRICS_PORT
oomScoreAdj: 0
# 0 = leave the host's conntrack settings alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 0s}
EOC
}

k8s_up() {
  k8s_docker version >/dev/null 2>&1 \
    || die "k8s: docker is not reachable at unix://$SLIPWAY_DOCKER_SOCK ('docker version' failed); start it first: scripts/testenv.sh up docker"
  if k8s_all_running && [ -f "$K8S_RUN/url" ]; then k8s_export; return 0; fi
  local p t0=$SECONDS owner
  owner=$(cat "$K8S_OWNER_FILE" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$TESTENV_DIR" ] && [ -f "$owner/k8s-kubelet.pid" ] \
     && kill -0 "$(cat "$owner/k8s-kubelet.pid")" 2>/dev/null; then
    die "k8s: a cluster of TESTENV_DIR=$owner runs on this host; stop it first (TESTENV_DIR=$owner scripts/testenv.sh down k8s)"
  fi
  for p in "${K8S_PROCS[@]}"; do if [ -f "$(pidfile "k8s-$p")" ]; then log "k8s: partly running; stopping the rest first"; k8s_down; break; fi; done
  for p in "${K8S_BINARIES[@]}" etcd; do [ -x "$K8S_BIN/$p" ] || die "k8s: $K8S_BIN/$p missing; run scripts/testenv.sh install k8s"; done
  k8s_bridge
  # The apiserver is not loopback-only: pods reach it through the Service 10.96.0.1:443, which
  # kube-proxy forwards to the advertised address, so it must listen on an address pods can
  # reach. It binds the docker bridge address only (not 0.0.0.0), which host processes reach too.
  local bind=${SLIPWAY_K8S_BIND:-$K8S_IP} host
  host=$bind; [ "$bind" = 0.0.0.0 ] && host=127.0.0.1
  K8S_URL="https://$host:$K8S_PORT"
  for p in "$K8S_PORT" "$K8S_ETCD_PORT" "$((K8S_ETCD_PORT + 1))" "$K8S_KUBELET_PORT" "$K8S_CM_PORT" "$K8S_SCHED_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || (exec 3<>"/dev/tcp/$K8S_IP/$p") 2>/dev/null; then
      die "k8s: port $p is already in use (set SLIPWAY_K8S_*PORT)"
    fi
  done
  mkdir -p "$K8S_RUN"
  echo "$K8S_URL" > "$K8S_RUN/url"; echo "$K8S_IP" > "$K8S_RUN/dns-ip"
  k8s_pki
  k8s_write_configs
  k8s_pause_image
  echo "$TESTENV_DIR" > "$K8S_OWNER_FILE"
  k8s_remove_pod_containers     # leftovers of an earlier cluster (the new one starts empty)
  k8s_save_host_state
  local pki=$K8S_PKI r=$K8S_RUN

  # etcd: loopback only, data on tmpfs, fresh for every up.
  rm -rf "$K8S_ETCD_DATA"; mkdir -p "$K8S_ETCD_DATA"; chmod 700 "$K8S_ETCD_DATA"
  start_bg k8s-etcd "$K8S_BIN/etcd" --name slipway --data-dir "$K8S_ETCD_DATA" \
    --listen-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((K8S_ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((K8S_ETCD_PORT + 1))" \
    --initial-cluster "slipway=http://127.0.0.1:$((K8S_ETCD_PORT + 1))" \
    --logger zap --log-level warn
  wait_tcp 127.0.0.1 "$K8S_ETCD_PORT" 20 || k8s_fail "etcd did not start"

  start_bg k8s-apiserver "$K8S_BIN/kube-apiserver" \
    --bind-address "$bind" --advertise-address "$K8S_IP" --secure-port "$K8S_PORT" \
    --etcd-servers "http://127.0.0.1:$K8S_ETCD_PORT" \
    --service-cluster-ip-range "$K8S_SERVICE_CIDR" --service-node-port-range 30000-32767 \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --requestheader-client-ca-file "$pki/ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --cert-dir "$r/apiserver-certs" --profiling=false --event-ttl 1h
  k8s_wait 60 "etcd apiserver" curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$K8S_URL/readyz" \
    || { k8s_proc_alive etcd apiserver || true; k8s_fail "kube-apiserver not ready within 60 s"; }
  local t_api=$((SECONDS - t0))

  start_bg k8s-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$r/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$r/controller-manager.kubeconfig" --authorization-kubeconfig "$r/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$K8S_CM_PORT" --port 0 --cert-dir "$r/cm-certs" \
    --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range "$K8S_SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false
  start_bg k8s-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$r/scheduler.kubeconfig" \
    --authentication-kubeconfig "$r/scheduler.kubeconfig" --authorization-kubeconfig "$r/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$K8S_SCHED_PORT" --port 0 --cert-dir "$r/sched-certs" \
    --leader-elect=false --profiling=false

  # cluster DNS (port 53 on the docker bridge address: pods' resolv.conf cannot name a port)
  : > "$r/dns/hosts"; : > "$r/dns/sync.err"
  k8s_dns_render > "$r/dns/hosts" 2>>"$r/dns/sync.err" || true
  start_bg k8s-dns dnsmasq --keep-in-foreground --log-facility=- --user=root --conf-file=/dev/null --pid-file= \
    --listen-address="$K8S_IP" --bind-interfaces --port=53 --no-hosts --addn-hosts="$r/dns/hosts" \
    --local=/cluster.local/ --domain-needed --resolv-file=/etc/resolv.conf --cache-size=1000 --neg-ttl=1
  start_bg k8s-dns-sync bash -c 'set -o pipefail; . "$1"; . "$2"; k8s_dns_sync_loop' k8s-dns-sync "$K8S_LIB" "$K8S_SELF"

  k8s_nodeport_guard
  start_bg k8s-proxy "$K8S_BIN/kube-proxy" --config "$r/kube-proxy.yaml"
  start_bg k8s-kubelet "$K8S_BIN/kubelet" --config "$r/kubelet.yaml" --kubeconfig "$r/kubelet.kubeconfig" \
    --hostname-override "$K8S_NODE" --node-ip "$K8S_IP" --root-dir "$K8S_KUBELET_DIR" \
    --container-runtime docker --docker-endpoint "unix://$SLIPWAY_DOCKER_SOCK" \
    --pod-infra-container-image "$K8S_PAUSE_IMAGE" --network-plugin= --register-node

  k8s_wait 90 "${K8S_PROCS[*]}" k8s_node_ready \
    || { k8s_proc_alive "${K8S_PROCS[@]}" || true; k8s_fail "node $K8S_NODE not Ready within 90 s"; }
  local t_node=$((SECONDS - t0))
  # Pods need the default ServiceAccount (and its token) before a Deployment can create them.
  k8s_wait 60 "apiserver controller-manager" k8s_default_sa_ready || k8s_fail "no token for the default service account"
  k8s_wait 20 "dns dns-sync" grep -q 'kubernetes.default.svc.cluster.local' "$r/dns/hosts" || k8s_fail "cluster DNS has no records"
  k8s_proc_alive "${K8S_PROCS[@]}" || k8s_fail "a process exited"
  cp "$(pidfile k8s-apiserver)" "$(pidfile k8s)"
  k8s_export
  log "k8s: up in $((SECONDS - t0)) s (apiserver ready at ${t_api} s, node Ready at ${t_node} s): $K8S_URL, node $K8S_NODE, kubeconfig $TESTENV_DIR/kubeconfig"
}

k8s_node_ready() {
  [ "$(k8s_kubectl get node "$K8S_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

k8s_default_sa_ready() {
  [ -n "$(k8s_kubectl -n default get serviceaccount default -o jsonpath='{.secrets[0].name}' 2>/dev/null)" ]
}

k8s_down() {
  local p owner
  for p in "${K8S_PROCS[@]}"; do k8s_stop "$p"; done
  rm -f "$(pidfile k8s)"
  owner=$(cat "$K8S_OWNER_FILE" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$TESTENV_DIR" ]; then
    log "k8s: the host's cluster belongs to TESTENV_DIR=$owner: its pods and host state are left alone"
    return 0
  fi
  k8s_remove_pod_containers
  k8s_unmount_kubelet
  k8s_restore_host_state
  rm -rf "$K8S_ETCD_DATA" "$K8S_RUN/dns"
  rm -f "$K8S_OWNER_FILE"
  log "k8s: down"
}

k8s_status() {
  local p down=() up=0
  for p in "${K8S_PROCS[@]}"; do if k8s_running "$p"; then up=$((up + 1)); else down+=("$p"); fi; done
  if [ ${#down[@]} -eq 0 ]; then
    echo "k8s: running $(cat "$K8S_RUN/url" 2>/dev/null) node $K8S_NODE kubeconfig $TESTENV_DIR/kubeconfig"
    return 0
  fi
  if [ $up -eq 0 ]; then echo "k8s: stopped"; else echo "k8s: stopped (partly running; not running: ${down[*]})"; fi
  return 1
}
