#!/usr/bin/env bash
# End-to-end check of the k8s test environment (after `scripts/testenv.sh up docker k8s`):
# a 3-replica Deployment of a FROM-scratch busybox httpd image becomes Available, a ClusterIP
# and a NodePort Service route to it (NodePort via 127.0.0.1 from the host; from another pod by
# full DNS name and by short name), a NodePort refused before it had pods answering the same
# source port afterwards, `kubectl logs`, `kubectl exec`, in-cluster access to the API
# through 10.96.0.1, `rollout restart` + `rollout status`, and 403 for the forbidden kubeconfig.
# Exits non-zero on the first failure; removes everything it created (not the image).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
[ -f "$TESTENV_DIR/env" ] || die "no $TESTENV_DIR/env: run scripts/testenv.sh up docker k8s"
# shellcheck disable=SC1091
. "$TESTENV_DIR/env"
: "${SLIPWAY_DOCKER_SOCK:=/var/run/docker.sock}"
KUBECTL=${SLIPWAY_TEST_KUBECTL:-$SLIPWAY_CACHE/k8s/bin/kubectl}
kc() { "$KUBECTL" --kubeconfig "$SLIPWAY_TEST_KUBECONFIG" "$@"; }
dk() { DOCKER_HOST="unix://$SLIPWAY_DOCKER_SOCK" DOCKER_BUILDKIT=0 docker "$@"; }

IMAGE=slipway/k8s-smoke:1
APP=slipway-smoke-web
NP=slipway-smoke-web-np
EARLY=slipway-smoke-early
CLIENT=slipway-smoke-client
passed=0 start=$SECONDS
ok()   { passed=$((passed + 1)); printf 'ok %d - %s (at %d s)\n' "$passed" "$*" $((SECONDS - start)); }
fail() { printf 'not ok - %s\n' "$*"; printf 'smoke: %d passed, 1 failed\n' "$passed"; exit 1; }
# retry SECONDS COMMAND...: until COMMAND succeeds (every 0.5 s)
retry() { local s=$1; shift; for _ in $(seq 1 $((s * 2))); do "$@" && return 0; sleep 0.5; done; "$@"; }

# Pods leave the API only 10-50 s after a normal delete with this kubelet (1.20: minimum grace
# 2 s, status sync every 10 s), so the pods are force-deleted once their ReplicaSets are gone.
cleanup() {
  local sel="app in ($APP,$CLIENT)"
  kc delete deployment "$APP" --ignore-not-found --timeout=30s >/dev/null 2>&1 || true
  kc delete service "$APP" "$NP" "$EARLY" --ignore-not-found >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do [ -z "$(kc get rs -l "app=$APP" -o name 2>/dev/null)" ] && break; sleep 0.5; done
  kc delete pods -l "$sel" --grace-period=0 --force --ignore-not-found >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do [ -z "$(kc get pods -l "$sel" -o name 2>/dev/null)" ] && break; sleep 0.5; done
}
trap cleanup EXIT

# -- the image: FROM scratch, static busybox, httpd serving /www
if ! dk image inspect "$IMAGE" >/dev/null 2>&1; then
  [ -x /bin/busybox ] || apt_install busybox-static
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  echo "slipway-smoke-ok" > "$ctx/index.html"
  cat > "$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY index.html /www/index.html
EXPOSE 8080
CMD ["/bin/sh", "-c", "echo \"slipway-smoke-web $HOSTNAME started\"; exec httpd -f -v -p 8080 -h /www"]
EOF
  dk build -q -t "$IMAGE" "$ctx" >/dev/null || { rm -rf "$ctx"; fail "docker build $IMAGE"; }
  rm -rf "$ctx"
fi
ok "image $IMAGE"

cleanup
t0=$(date +%s.%N)
kc apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $APP, labels: {app: $APP}}
spec:
  replicas: 3
  selector: {matchLabels: {app: $APP}}
  template:
    metadata: {labels: {app: $APP}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: $IMAGE
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: $APP}
spec:
  selector: {app: $APP}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: $NP}
spec:
  type: NodePort
  selector: {app: $APP}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: $CLIENT, labels: {app: $CLIENT}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: $IMAGE
    imagePullPolicy: IfNotPresent
    command: ["/bin/sleep", "3600"]
EOF
kc rollout status "deployment/$APP" --timeout=90s >/dev/null || { kc get pods -o wide; fail "deployment $APP did not become available"; }
[ "$(kc get deployment "$APP" -o jsonpath='{.status.availableReplicas}')" = 3 ] || fail "availableReplicas != 3"
ok "deployment of 3 replicas Available in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"

nodeport=$(kc get service "$NP" -o jsonpath='{.spec.ports[0].nodePort}')
retry 15 sh -c "curl -sf --max-time 2 http://127.0.0.1:$nodeport/ | grep -q slipway-smoke-ok" || fail "NodePort 127.0.0.1:$nodeport"
ok "NodePort service on 127.0.0.1:$nodeport"

# A NodePort asked before it has a ready pod is refused, and leaves nothing behind: the same
# source port, asked again once it has one, is answered (not held by a stale conntrack entry).
kc create service nodeport "$EARLY" --tcp=80:8080 >/dev/null || fail "service $EARLY"
early=$(kc get service "$EARLY" -o jsonpath='{.spec.ports[0].nodePort}')
sport=$((20000 + RANDOM % 9000)) # below the ephemeral range: no other connection holds it
code=0; curl -s --max-time 3 --local-port "$sport" "http://127.0.0.1:$early/" >/dev/null || code=$?
[ "$code" = 7 ] || fail "NodePort $early without a ready pod: curl exit $code, not 7 (refused)"
kc patch service "$EARLY" -p "{\"spec\":{\"selector\":{\"app\":\"$APP\"}}}" >/dev/null || fail "patch $EARLY"
retry 15 sh -c "curl -sf --max-time 2 http://127.0.0.1:$early/ | grep -q slipway-smoke-ok" || fail "NodePort $early once it has pods"
curl -sf --max-time 3 --local-port "$sport" "http://127.0.0.1:$early/" | grep -q slipway-smoke-ok \
  || fail "NodePort $early from source port $sport, refused before: no answer (a stale conntrack entry)"
ok "a NodePort refused before it had pods answers the same source port afterwards"

kc wait --for=condition=Ready "pod/$CLIENT" --timeout=60s >/dev/null || fail "client pod not Ready"
inpod() { kc exec "$CLIENT" -- "$@"; }
# (Debian's busybox 1.35 `wget -T` segfaults in these containers: `timeout 5 wget` instead.)
retry 15 sh -c "$(printf '%q ' "$KUBECTL" --kubeconfig "$SLIPWAY_TEST_KUBECONFIG" exec "$CLIENT" -- \
  timeout 5 wget -q -O- "http://$APP.default.svc.cluster.local:8080/") | grep -q slipway-smoke-ok" \
  || { inpod cat /etc/resolv.conf || true; fail "wget by full DNS name from a pod"; }
ok "ClusterIP service by DNS name $APP.default.svc.cluster.local from a pod (kubectl exec)"
inpod timeout 5 wget -q -O- "http://$APP:8080/" | grep -q slipway-smoke-ok || fail "wget by short name from a pod"
ok "ClusterIP service by short name $APP (search domains) from a pod"
clusterip=$(kc get service "$APP" -o jsonpath='{.spec.clusterIP}')
inpod timeout 5 wget -q -O- "http://$clusterip:8080/" | grep -q slipway-smoke-ok || fail "wget by ClusterIP $clusterip"
ok "ClusterIP $clusterip from a pod"
# the API from inside: https://kubernetes.default.svc (10.96.0.1:443 -> the apiserver) with the
# pod's service account token
inpod sh -c 'timeout 5 wget -q -O- --no-check-certificate \
    --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" \
    https://kubernetes.default.svc/version' | grep -q gitVersion \
  || fail "pod cannot reach the apiserver via https://kubernetes.default.svc"
ok "apiserver reachable from a pod through the kubernetes Service, with its service account token"

live_pods() { kc get pods -l "app=$APP" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}} {{end}}{{end}}'; }
pod=$(live_pods | awk '{print $1}')
logs=$(kc logs "$pod" 2>&1) || true
grep -q "slipway-smoke-web $pod started" <<<"$logs" || fail "kubectl logs $pod: $logs"
ok "kubectl logs"

before=$(kc get pods -l "app=$APP" -o jsonpath='{.items[*].metadata.name}')
kc rollout restart "deployment/$APP" >/dev/null || fail "rollout restart"
kc rollout status "deployment/$APP" --timeout=90s >/dev/null || fail "rollout status after restart"
after=$(live_pods)
[ "$(wc -w <<<"$after")" = 3 ] || { kc get pods -l "app=$APP"; fail "want 3 live pods after the restart, got: $after"; }
for p in $before; do
  case " $after " in *" $p "*) kc get pods -l "app=$APP"; fail "pod $p survived the restart" ;; esac
done
retry 10 sh -c "curl -sf --max-time 2 http://127.0.0.1:$nodeport/ | grep -q slipway-smoke-ok" || fail "NodePort after restart"
ok "rollout restart + rollout status (new pods serve)"

out=$("$KUBECTL" --kubeconfig "$SLIPWAY_TEST_KUBECONFIG_FORBIDDEN" get pods 2>&1) && fail "forbidden user could list pods"
grep -q 'Forbidden' <<<"$out" || fail "forbidden user: unexpected error: $out"
code=$("$KUBECTL" --kubeconfig "$SLIPWAY_TEST_KUBECONFIG_FORBIDDEN" get --raw /api/v1/namespaces/default/pods -v=6 2>&1 \
       | grep -oE 'Response Status: [0-9]+|[0-9]{3} Forbidden' | grep -oE '[0-9]{3}' | head -1 || true)
[ "$code" = 403 ] || fail "forbidden user: HTTP $code, want 403"
ok "forbidden kubeconfig gets 403"

printf 'smoke: %d passed, 0 failed\n' "$passed"
