#!/usr/bin/env bash
# Remove this member from the etcd cluster, only if quorum survives; then
# stop it and wipe its data.
#
# Parameters (environment):
#   ETCD_NAME, MESH_IP     this member
#   CLUSTER                the members it was created with, one "name mesh_ip" a line
#   DATA_DIR               its data directory
#   CLIENT_PORT/PEER_PORT  2379 / 2380
#   CONF_DIR, RUN_DIR, SYSTEMD_DIR  /etc/etcd, /run/etcd, /run/systemd/system
#                          (overridden only by the tests)
#
# Uses the health-check client certificate written by etcd-member.sh.
# Refuses (exit 1, nothing changed) when the members left would not be a
# healthy majority of the new membership.
#
# When no other member answers, this is either the last member of a cluster
# being destroyed or a member cut off by an outage (mesh down, peers
# rebooting): from here both look the same, and wiping in the second case
# could destroy the only copy of the cluster's data. It wipes only with the
# teardown mark, CONF_DIR/teardown: the delete of the cluster's health gate
# (<c>-health, etcd-teardown.sh) writes it on the first member, and Pulumi
# deletes that gate only when the whole ExternalEtcd goes (pulumi destroy,
# or etcd removed from the spec), before any member; the members go one at
# a time, the first one last. Without the mark it fails loudly and leaves
# the member and its data in place.
set -euo pipefail

ETCD_NAME="${ETCD_NAME:?ETCD_NAME is required}"
MESH_IP="${MESH_IP:?MESH_IP is required}"
CLUSTER="${CLUSTER:?CLUSTER is required}"
DATA_DIR="${DATA_DIR:?DATA_DIR is required}"
CLIENT_PORT="${CLIENT_PORT:-2379}"
PEER_PORT="${PEER_PORT:-2380}"

CONF_DIR="${CONF_DIR:-/etc/etcd}"
RUN_DIR="${RUN_DIR:-/run/etcd}"
SYSTEMD_DIR="${SYSTEMD_DIR:-/run/systemd/system}"
PKI="${CONF_DIR}/pki"
PIDFILE="${RUN_DIR}/etcd.pid"
TEARDOWN="${CONF_DIR}/teardown"
README="components/cluster/etcd/README.md, section Removing members"

has_systemd() { [ -d "$SYSTEMD_DIR" ]; }

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

has_data() { [ -d "${DATA_DIR}/member" ]; }

if [ ! -f "${PKI}/healthcheck-client.crt" ]; then
  # Never configured (etcd-member.sh failed early): nothing to lose, unless data is there.
  if has_data && [ ! -f "$TEARDOWN" ]; then
    echo "etcd ${ETCD_NAME}: ${DATA_DIR} holds etcd data but ${PKI} has no client certificate to check" \
      "its membership with; refusing to wipe it. Restore ${PKI} (pulumi up) or move the data away, then retry." >&2
    exit 1
  fi
  echo "etcd ${ETCD_NAME}: not configured here; removing what is left"
  wipe
  exit 0
fi

# Ask the other members (this one may already be down).
ep=""
asked=()
while read -r member_name member_ip; do
  if [ -z "$member_name" ] || [ "$member_name" = "$ETCD_NAME" ]; then continue; fi
  candidate="https://${member_ip}:${CLIENT_PORT}"
  asked+=("$candidate")
  if ctl --endpoints "$candidate" member list > /dev/null 2>&1; then ep="$candidate"; break; fi
done <<< "$CLUSTER"

if [ -z "$ep" ]; then
  if [ -f "$TEARDOWN" ]; then
    echo "etcd ${ETCD_NAME}: last member of a cluster being destroyed (teardown mark present); stopping and wiping"
    wipe
    exit 0
  fi
  echo "etcd: refusing to remove ${ETCD_NAME}: no other member answers (asked: ${asked[*]:-none}) and this" \
    "is not a whole-cluster destroy (no ${TEARDOWN}). With the mesh or the peers down, its data may be the" \
    "cluster's only copy, so it stays as it is. Bring the mesh and the other members back, then run Pulumi" \
    "again; to destroy the whole etcd cluster, see ${README}." >&2
  exit 1
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
