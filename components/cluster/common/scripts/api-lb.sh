#!/usr/bin/env bash
# Local TCP load balancer to the Kubernetes API, on every node.
#
# Parameters (environment):
#   LB_PORT        port on 127.0.0.1 (7445)
#   BACKENDS       one control plane a line: "<name> <mesh_ip>:<port>"
#   HEALTH_CHECK   readyz: HTTPS GET /readyz must answer 200 (kubeadm);
#                  tcp: a TCP connect is enough (K3s, see below)
#   AIRGAP         true: install haproxy only from ARTIFACTS_DIR/haproxy/*.deb
#   ARTIFACTS_DIR  pre-staged packages and images
#
# Kubelets, k3s agents, kubeadm and the CNI talk to 127.0.0.1:LB_PORT,
# which health-checks every control plane (every 2 s, down after 2 failed
# checks, up again after 2 good ones) and balances over the live ones:
# losing any one server never takes the API away from a node. The traffic
# itself stays TCP (TLS end to end between client and API server). haproxy
# rather than nginx because open source nginx has no active health checks.
# Backends that do not exist yet (servers still joining) are simply marked
# down. A changed backend list is applied with a graceful reload (open
# watches finish on the old process).
#
# HEALTH_CHECK=readyz: an API server that accepts TCP but is not ready (etcd
# lost, still starting, shutting down) is taken out of rotation. /readyz is
# readable without credentials: kube-apiserver's default --anonymous-auth=true
# and the bootstrap RBAC role system:public-info-viewer (bound to
# system:unauthenticated) allow /readyz, /livez, /healthz and /version.
# The check does not verify the serving certificate (verify none): it only
# reads a status code, and clients verify the API server themselves.
# K3s runs kube-apiserver with --anonymous-auth=false, so an anonymous
# /readyz gets 401 there whatever the server's state: K3s keeps TCP checks.
#
# Idempotent: an unchanged configuration changes nothing. Prints one line.
set -euo pipefail

LB_PORT="${LB_PORT:?LB_PORT is required}"
BACKENDS="${BACKENDS:?BACKENDS is required}"
HEALTH_CHECK="${HEALTH_CHECK:?HEALTH_CHECK is required (readyz or tcp)}"
AIRGAP="${AIRGAP:-false}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-/var/lib/sovereign/airgap}"

conf_dir=/etc/sovereign
conf="${conf_dir}/api-lb.cfg"
pidfile=/run/sovereign-api-lb.pid
unit=/etc/systemd/system/sovereign-api-lb.service

has_systemd() { [ -d /run/systemd/system ]; }

install_haproxy() {
  command -v haproxy > /dev/null && return 0
  if [ "$AIRGAP" = "true" ]; then
    local debs=("${ARTIFACTS_DIR}"/haproxy/*.deb)
    [ -e "${debs[0]}" ] || { echo "air-gapped install: no haproxy packages in ${ARTIFACTS_DIR}/haproxy" >&2; exit 1; }
    dpkg -i "${debs[@]}" > /dev/null
  else
    DEBIAN_FRONTEND=noninteractive apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy > /dev/null
  fi
  # Our own unit runs our own configuration; the distribution's service
  # would start a second haproxy with a configuration nobody manages.
  if has_systemd; then systemctl disable --now haproxy.service > /dev/null 2>&1 || true; fi
}

render_config() {
  # A node's own clients (kubelet, proxies, CNI agents): a few hundred
  # connections; haproxy needs about two descriptors per connection.
  printf 'global\n  maxconn 4000\n\n'
  printf 'defaults\n  mode tcp\n  timeout connect 5s\n'
  # Watches are long-lived: do not cut them every minute.
  printf '  timeout client 24h\n  timeout server 24h\n  timeout check 2s\n\n'
  printf 'frontend kube-api\n  bind 127.0.0.1:%s\n  default_backend control-planes\n\n' "$LB_PORT"
  printf 'backend control-planes\n  balance roundrobin\n'
  local check=check
  if [ "$HEALTH_CHECK" = "readyz" ]; then
    # An HTTP check over TLS on the check connection only: the backend
    # (and so the traffic) stays in TCP mode.
    printf '  option httpchk GET /readyz\n  http-check expect status 200\n'
    check="check check-ssl verify none"
  fi
  printf '  default-server inter 2s fall 2 rise 2 on-marked-down shutdown-sessions\n'
  local name address
  while read -r name address; do
    [ -n "$name" ] || continue
    printf '  server %s %s %s\n' "$name" "$address" "$check"
  done <<< "$BACKENDS"
}

running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; }

write_unit() {
  local wanted
  # $MAINPID is expanded by systemd, not by us.
  # shellcheck disable=SC2016
  wanted="$(printf '%s\n' \
    '[Unit]' 'Description=Local load balancer to the Kubernetes API (sovereign-cloud)' \
    'After=network-online.target' '' \
    '[Service]' "ExecStart=$(command -v haproxy) -Ws -f ${conf} -p ${pidfile}" \
    'ExecReload=/bin/kill -USR2 $MAINPID' 'Restart=always' 'RestartSec=2' 'LimitNOFILE=65536' '' \
    '[Install]' 'WantedBy=multi-user.target')"
  if [ ! -f "$unit" ] || [ "$(cat "$unit")" != "$wanted" ]; then
    printf '%s\n' "$wanted" > "$unit"
    systemctl daemon-reload
  fi
}

wait_listening() {
  local i
  for i in $(seq 1 50); do
    if (exec 3<> "/dev/tcp/127.0.0.1/${LB_PORT}") 2> /dev/null; then return 0; fi
    sleep 0.2
    : "$i"
  done
  echo "api-lb: nothing listens on 127.0.0.1:${LB_PORT}" >&2
  exit 1
}

case "$HEALTH_CHECK" in
  readyz | tcp) ;;
  *) echo "HEALTH_CHECK must be readyz or tcp, got ${HEALTH_CHECK}" >&2; exit 1 ;;
esac
install_haproxy
mkdir -p "$conf_dir"
new="$(render_config)"
changed=false
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new" ]; then
  printf '%s\n' "$new" > "${conf}.new"
  haproxy -c -q -f "${conf}.new"
  mv "${conf}.new" "$conf"
  changed=true
fi

start_systemd() {
  write_unit
  systemctl enable --quiet sovereign-api-lb.service
  if ! systemctl is-active --quiet sovereign-api-lb.service; then
    systemctl start sovereign-api-lb.service
  elif [ "$changed" = "true" ]; then
    systemctl reload sovereign-api-lb.service
  fi
}

start_plain() {
  ulimit -n 16384 2> /dev/null || true
  if ! running; then
    haproxy -D -f "$conf" -p "$pidfile"
  elif [ "$changed" = "true" ]; then
    # Graceful reload: the new process takes the socket, the old one
    # finishes its connections.
    haproxy -D -f "$conf" -p "$pidfile" -sf "$(cat "$pidfile")"
  fi
}

if has_systemd; then start_systemd; else start_plain; fi
wait_listening
backends="$(grep -c . <<< "$BACKENDS")"
echo "api-lb: 127.0.0.1:${LB_PORT} -> ${backends} control plane(s) (changed=${changed})"
