#!/usr/bin/env bash
# Remove this member from the etcd cluster, only if quorum survives; then
# stop it and wipe its data.
#
# Parameters (environment):
#   ETCD_NAME, MESH_IP     this member
#   CLUSTER                the members it was created with, one "name mesh_ip" a line
#   DATA_DIR               its data directory
#   CLIENT_PORT/PEER_PORT  2379 / 2380
#
# Uses the health-check client certificate written by etcd-member.sh.
# Refuses (exit 1, nothing changed) when the members left would not be a
# healthy majority of the new membership. The last member of a cluster is
# simply stopped and wiped (the whole cluster is being destroyed).
set -euo pipefail

ETCD_NAME="${ETCD_NAME:?ETCD_NAME is required}"
MESH_IP="${MESH_IP:?MESH_IP is required}"
CLUSTER="${CLUSTER:?CLUSTER is required}"
DATA_DIR="${DATA_DIR:?DATA_DIR is required}"
CLIENT_PORT="${CLIENT_PORT:-2379}"
PEER_PORT="${PEER_PORT:-2380}"

CONF_DIR=/etc/etcd
PKI="${CONF_DIR}/pki"
PIDFILE=/run/etcd/etcd.pid

has_systemd() { [ -d /run/systemd/system ]; }

ctl() {
  ETCDCTL_API=3 etcdctl --cacert "${PKI}/ca.crt" --cert "${PKI}/healthcheck-client.crt" \
    --key "${PKI}/healthcheck-client.key" --dial-timeout=3s --command-timeout=5s "$@"
}

stop_member() {
  if has_systemd; then
    systemctl disable --now etcd-member.service > /dev/null 2>&1 || true
    rm -f /etc/systemd/system/etcd-member.service
    systemctl daemon-reload
    return
  fi
  local pid
  [ -f "$PIDFILE" ] || return 0
  pid="$(cat "$PIDFILE")"
  if [ -r "/proc/${pid}/comm" ] && [ "$(cat "/proc/${pid}/comm")" = etcd ]; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null || true
  fi
  rm -f "$PIDFILE"
}

wipe() {
  stop_member
  rm -rf "$DATA_DIR" "$CONF_DIR"
}

[ -f "${PKI}/healthcheck-client.crt" ] || { echo "etcd ${ETCD_NAME}: not configured here; wiping"; wipe; exit 0; }

# Ask the other members (this one may already be down).
ep=""
while read -r member_name member_ip; do
  if [ -z "$member_name" ] || [ "$member_name" = "$ETCD_NAME" ]; then continue; fi
  candidate="https://${member_ip}:${CLIENT_PORT}"
  if ctl --endpoints "$candidate" member list > /dev/null 2>&1; then ep="$candidate"; break; fi
done <<< "$CLUSTER"

if [ -z "$ep" ]; then
  echo "etcd ${ETCD_NAME}: no other member answers; stopping and wiping the last member"
  wipe
  exit 0
fi

list="$(ctl --endpoints "$ep" member list)"
mine="$(grep -F ", https://${MESH_IP}:${PEER_PORT}," <<< "$list" || true)"
if [ -z "$mine" ]; then
  echo "etcd ${ETCD_NAME}: not a member any more; stopping and wiping"
  wipe
  exit 0
fi

# Quorum after removal: the others must be a healthy majority of N-1.
total=0
healthy=0
while IFS=', ' read -r _id _status _name _peers clients _; do
  total=$((total + 1))
  [ "$clients" != "https://${MESH_IP}:${CLIENT_PORT}" ] || continue
  if [ -n "$clients" ] && ctl --endpoints "$clients" endpoint health > /dev/null 2>&1; then healthy=$((healthy + 1)); fi
done <<< "$list"
remaining=$((total - 1))
needed=$((remaining / 2 + 1))
if [ "$healthy" -lt "$needed" ]; then
  echo "etcd: refusing to remove ${ETCD_NAME}: ${healthy} healthy of the ${remaining} members left, quorum needs ${needed}; bring members back first" >&2
  exit 1
fi

# etcd's own check (strict-reconfig-check) counts only members connected
# for the last 5 s: right after a member (re)started, a removal is refused
# with "unhealthy cluster" for a few seconds. Retry that, nothing else.
for attempt in $(seq 30); do
  if error="$(ctl --endpoints "$ep" member remove "${mine%%,*}" 2>&1 > /dev/null)"; then break; fi
  case "$error" in
    *"unhealthy cluster"*) ;;
    *) echo "etcd: removing ${ETCD_NAME} failed: ${error}" >&2; exit 1 ;;
  esac
  if [ "$attempt" -eq 30 ]; then
    echo "etcd: ${ETCD_NAME} not removed: the cluster stayed unhealthy for etcd: ${error}" >&2
    exit 1
  fi
  sleep 1
done
wipe
echo "etcd ${ETCD_NAME}: removed (${remaining} members left, ${healthy} healthy)"
