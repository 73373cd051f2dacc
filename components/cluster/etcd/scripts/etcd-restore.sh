#!/usr/bin/env bash
# Restore this member from an etcd snapshot (procedure: components/cluster/etcd/README.md,
# and components/cluster/kubeadm/README.md for etcd stacked on kubeadm control planes).
# Run it on EVERY member of the restored cluster with the same SNAPSHOT,
# CLUSTER and NEW_TOKEN; each member's previous data is kept aside.
#
# Parameters (environment):
#   SNAPSHOT    snapshot file on this node (etcdctl snapshot save / S3 copy)
#   ETCD_NAME   this member; MESH_IP its mesh IP
#   CLUSTER     the members of the restored cluster, one "name mesh_ip" a line
#   NEW_TOKEN   a fresh initial-cluster token (the restored cluster is a new one)
#   DATA_DIR    etcd's data directory
#   PEER_PORT   2380
#   STACKED     true: kubeadm's stacked etcd, the static pod of
#               ${KUBE_DIR}/manifests/etcd.yaml (kube-apiserver.yaml must be
#               out of that directory already); false: a dedicated member
#               (etcd-member.sh)
#   KUBE_DIR    /etc/kubernetes
# stdout: where the previous data was moved.
set -euo pipefail

SNAPSHOT="${SNAPSHOT:?SNAPSHOT is required}"
ETCD_NAME="${ETCD_NAME:?ETCD_NAME is required}"
MESH_IP="${MESH_IP:?MESH_IP is required}"
CLUSTER="${CLUSTER:?CLUSTER is required}"
NEW_TOKEN="${NEW_TOKEN:?NEW_TOKEN is required}"
DATA_DIR="${DATA_DIR:?DATA_DIR is required}"
PEER_PORT="${PEER_PORT:-2380}"
STACKED="${STACKED:-false}"
KUBE_DIR="${KUBE_DIR:-/etc/kubernetes}"

CONF=/etc/etcd/etcd.conf.yml
PIDFILE=/run/etcd/etcd.pid
MANIFEST="${KUBE_DIR}/manifests/etcd.yaml"
# Outside the manifests directory: the kubelet stops the pod.
PARKED="${KUBE_DIR}/etcd.yaml.restoring"
if [ "$STACKED" = true ]; then
  if [ ! -f "$MANIFEST" ] && [ ! -f "$PARKED" ]; then
    echo "no ${MANIFEST}: this node is not a kubeadm control plane with stacked etcd" >&2; exit 1
  fi
  if [ -f "${KUBE_DIR}/manifests/kube-apiserver.yaml" ]; then
    echo "kube-apiserver still runs here: move ${KUBE_DIR}/manifests/kube-apiserver.yaml out on every control plane first" >&2
    exit 1
  fi
else
  [ -f "$CONF" ] || { echo "no ${CONF}: this node was never an etcd member (run the program first)" >&2; exit 1; }
fi
[ -r "$SNAPSHOT" ] || { echo "snapshot ${SNAPSHOT} not found" >&2; exit 1; }

# etcdutl (etcd 3.5+) when present; etcdctl's own snapshot commands before.
etcd_offline() {
  if command -v etcdutl > /dev/null; then etcdutl "$@"; else ETCDCTL_API=3 etcdctl "$@"; fi
}
etcd_offline snapshot status "$SNAPSHOT" > /dev/null

has_systemd() { [ -d /run/systemd/system ]; }

stop_static_pod() {
  if [ -f "$MANIFEST" ]; then mv "$MANIFEST" "$PARKED"; fi
  for _ in $(seq 120); do pgrep -x etcd > /dev/null || return 0; sleep 1; done
  echo "etcd still runs 120s after ${MANIFEST} was moved to ${PARKED}" >&2
  exit 1
}

stop_member() {
  if [ "$STACKED" = true ]; then stop_static_pod; return; fi
  if has_systemd; then systemctl stop etcd-member.service; return; fi
  local pid
  pid="$(cat "$PIDFILE" 2> /dev/null || true)"
  if [ -n "$pid" ] && [ "$(cat "/proc/${pid}/comm" 2> /dev/null)" = etcd ]; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || return 0; sleep 0.1; done
    kill -9 "$pid"
  fi
}

start_member() {
  if [ "$STACKED" = true ]; then mv "$PARKED" "$MANIFEST"; return; fi
  if has_systemd; then systemctl start --no-block etcd-member.service; return; fi
  setsid nohup "$(command -v etcd)" --config-file "$CONF" >> "/var/log/etcd-${ETCD_NAME}.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
}

initial=()
while read -r member_name member_ip; do
  [ -n "$member_name" ] && initial+=("${member_name}=https://${member_ip}:${PEER_PORT}")
done <<< "$CLUSTER"

restored="${DATA_DIR}.restore.$$"
rm -rf "$restored"
etcd_offline snapshot restore "$SNAPSHOT" --name "$ETCD_NAME" \
  --initial-cluster "$(IFS=,; printf '%s' "${initial[*]}")" --initial-cluster-token "$NEW_TOKEN" \
  --initial-advertise-peer-urls "https://${MESH_IP}:${PEER_PORT}" --data-dir "$restored" > /dev/null 2>&1
stop_member
aside="${DATA_DIR}.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
if [ -d "$DATA_DIR" ]; then mv "$DATA_DIR" "$aside"; fi
mv "$restored" "$DATA_DIR"
chmod 0700 "$DATA_DIR"
start_member
echo "$aside"
