#!/usr/bin/env bash
# Configure and start K3s on one node (server or agent), then wait for it.
#
# Parameters (environment):
#   K3S_ROLE       server | agent
#   K3S_CONFIG     /etc/rancher/k3s/config.yaml content (the flags, rendered by the component)
#   FIRST_SERVER   true on the one server that may bootstrap (--cluster-init)
#   OTHER_SERVERS  mesh IPs of the other servers, one a line (bootstrap guard)
#   JOIN_SERVER    URL joiners register through (the local API load balancer)
#   WAIT_SECONDS   how long to wait for readiness
#   K3S_VERSION    the version installed by k3s-install.sh: a new one restarts
#                  K3S (servers one at a time, as their commands are chained)
#   K3S_BIN, K3S_ETC, K3S_DATA, RUN_DIR, LOG_DIR  locations (defaults: the
#                  standard ones; overridden only by the tests)
# Secrets on stdin, one NAME=base64 a line: K3S_TOKEN, and optionally
#   ETCD_S3_ACCESS_KEY / ETCD_S3_SECRET_KEY (written to a 0600 drop-in).
#
# Never creates a second cluster: the first server bootstraps only when it
# has no etcd data AND no other server already serves a cluster; otherwise
# it joins that cluster (a replaced first server). Idempotent: an unchanged
# configuration neither rewrites files nor restarts K3s.
set -euo pipefail

K3S_ROLE="${K3S_ROLE:?K3S_ROLE is required}"
K3S_CONFIG="${K3S_CONFIG:?K3S_CONFIG is required}"
FIRST_SERVER="${FIRST_SERVER:-false}"
OTHER_SERVERS="${OTHER_SERVERS:-}"
JOIN_SERVER="${JOIN_SERVER:?JOIN_SERVER is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
K3S_VERSION="${K3S_VERSION:-}"

K3S_TOKEN=""
ETCD_S3_ACCESS_KEY=""
ETCD_S3_SECRET_KEY=""
read_secrets() {
  local line value
  while IFS= read -r line; do
    value="$(printf '%s' "${line#*=}" | base64 -d)"
    case "${line%%=*}" in
      K3S_TOKEN) K3S_TOKEN="$value" ;;
      ETCD_S3_ACCESS_KEY) ETCD_S3_ACCESS_KEY="$value" ;;
      ETCD_S3_SECRET_KEY) ETCD_S3_SECRET_KEY="$value" ;;
    esac
  done
}
read_secrets
[ -n "$K3S_TOKEN" ] || { echo "K3S_TOKEN missing on stdin" >&2; exit 1; }

case "$K3S_ROLE" in
  server) service=k3s ;;
  agent) service=k3s-agent ;;
  *) echo "K3S_ROLE must be server or agent, got ${K3S_ROLE}" >&2; exit 1 ;;
esac
bin="${K3S_BIN:-/usr/local/bin/k3s}"
[ -x "$bin" ] || { echo "${bin} missing: k3s-install.sh runs first" >&2; exit 1; }
etc="${K3S_ETC:-/etc/rancher/k3s}"
data="${K3S_DATA:-/var/lib/rancher/k3s}"
run_dir="${RUN_DIR:-/run}"
log_dir="${LOG_DIR:-/var/log}"
changed=false
old_pid=""

has_systemd() { [ -d /run/systemd/system ]; }

# write_file PATH MODE CONTENT: only when different; sets changed=true.
write_file() {
  # Compared without trailing newlines, as $(cat) reads the file back.
  local content
  content="$(printf '%s' "$3")"
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$content" ]; then
    install -m "$2" /dev/null "$1"
    printf '%s\n' "$content" > "$1"
    changed=true
  fi
}

existing_cluster_at() {
  local ip
  while read -r ip; do
    [ -n "$ip" ] || continue
    # /cacerts is served unauthenticated by every K3s server.
    if curl -fsk --max-time 5 "https://${ip}:6443/cacerts" > /dev/null 2>&1; then
      echo "$ip"
      return 0
    fi
  done <<< "$OTHER_SERVERS"
  return 1
}

config="$K3S_CONFIG"
if [ "$FIRST_SERVER" = "true" ]; then
  joined=false
  if [ -d "${data}/server/db/etcd" ]; then
    # A first server that once joined an existing cluster stays a joiner.
    grep -q '^server: ' "${etc}/config.yaml" 2> /dev/null && joined=true
  elif peer="$(existing_cluster_at)"; then
    echo "a cluster already runs on ${peer}: joining it instead of --cluster-init" >&2
    joined=true
  fi
  if [ "$joined" = "true" ]; then config="${config/cluster-init: true/server: ${JOIN_SERVER}}"; fi
fi

mkdir -p "${etc}/config.yaml.d"
write_file "${etc}/config.yaml" 0600 "$config"
write_file "${etc}/cluster-token" 0600 "$K3S_TOKEN"
# The binary may have been replaced under a running K3s (an upgrade).
write_file "${etc}/.sovereign-version" 0644 "$K3S_VERSION"
s3="${etc}/config.yaml.d/90-etcd-s3-credentials.yaml"
if [ -n "$ETCD_S3_ACCESS_KEY" ]; then
  # YAML single quotes: a quote inside is doubled.
  q="'"
  write_file "$s3" 0600 "$(printf "etcd-s3-access-key: '%s'\netcd-s3-secret-key: '%s'" \
    "${ETCD_S3_ACCESS_KEY//$q/$q$q}" "${ETCD_S3_SECRET_KEY//$q/$q$q}")"
elif [ -f "$s3" ]; then
  rm -f "$s3"
  changed=true
fi

start_systemd() {
  local unit="/etc/systemd/system/${service}.service" wanted
  wanted="$(printf '%s\n' \
    '[Unit]' "Description=K3s ${K3S_ROLE} (sovereign-cloud)" 'Wants=network-online.target' 'After=network-online.target' '' \
    '[Service]' 'Type=notify' "ExecStart=${bin} ${K3S_ROLE}" 'KillMode=process' 'Delegate=yes' \
    'LimitNOFILE=1048576' 'LimitNPROC=infinity' 'LimitCORE=infinity' 'TasksMax=infinity' \
    'TimeoutStartSec=0' 'Restart=always' 'RestartSec=5s' '' \
    '[Install]' 'WantedBy=multi-user.target')"
  if [ ! -f "$unit" ] || [ "$(cat "$unit")" != "$wanted" ]; then
    printf '%s\n' "$wanted" > "$unit"
    systemctl daemon-reload
    changed=true
  fi
  systemctl enable --quiet "$service"
  if [ "$changed" = "true" ] || ! systemctl is-active --quiet "$service"; then
    old_pid="$(systemctl show -p MainPID --value "$service")"
    # --no-block: a joining server is "active" only once etcd has caught
    # up; readiness is waited for below, with a deadline.
    systemctl restart --no-block "$service"
  fi
}

# After a restart, the old process may still answer for a moment: wait
# for the new one, so the next server in the chain never restarts while
# this one is down (two servers down at once would lose quorum).
restarted() {
  [ -n "$old_pid" ] || return 0
  local pid
  pid="$(systemctl show -p MainPID --value "$service")"
  [ -n "$pid" ] && [ "$pid" != "0" ] && [ "$pid" != "$old_pid" ]
}

start_plain() {
  # No systemd (containers, test hosts): a supervised-by-nobody process.
  local pidfile="${run_dir}/${service}.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
    [ "$changed" = "true" ] || return 0
    kill "$(cat "$pidfile")"
    sleep 2
  fi
  nohup "$bin" "$K3S_ROLE" >> "${log_dir}/${service}.log" 2>&1 &
  echo $! > "$pidfile"
}

if has_systemd; then start_systemd; else start_plain; fi

deadline=$((SECONDS + WAIT_SECONDS))
ready() {
  restarted || return 1
  if [ "$K3S_ROLE" = "server" ]; then
    "$bin" kubectl --kubeconfig "${etc}/k3s.yaml" get --raw /readyz > /dev/null 2>&1
  else
    [ -s "${data}/agent/kubelet.kubeconfig" ]
  fi
}
until ready; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "k3s ${K3S_ROLE} not ready after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 3
done
echo "k3s ${K3S_ROLE} ready (changed=${changed})"
