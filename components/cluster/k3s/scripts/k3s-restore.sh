#!/usr/bin/env bash
# Restore the K3s datastore from an etcd snapshot (run by an operator; see
# components/cluster/k3s/README.md for the whole procedure).
#
# Parameters (environment):
#   STEP      reset  : on the FIRST server, with K3s stopped on every server:
#                      reset the cluster to one member restored from SNAPSHOT
#             rejoin : on each other server, after the reset: wipe the old
#                      etcd data so the server rejoins the restored cluster
#   SNAPSHOT  snapshot name (with S3 configured in config.yaml) or local path
#   K3S_BIN   the k3s binary (default /usr/local/bin/k3s)
set -euo pipefail

STEP="${STEP:?STEP is required (reset or rejoin)}"
K3S_BIN="${K3S_BIN:-/usr/local/bin/k3s}"
data=/var/lib/rancher/k3s/server/db

has_systemd() { [ -d /run/systemd/system ]; }
stop_k3s() {
  if has_systemd; then systemctl stop k3s; elif [ -s /run/k3s.pid ]; then kill "$(cat /run/k3s.pid)" || true; fi
}
start_k3s() {
  if has_systemd; then
    systemctl start k3s
  else
    nohup "$K3S_BIN" server >> /var/log/k3s.log 2>&1 &
    echo $! > /run/k3s.pid
  fi
}

case "$STEP" in
  reset)
    SNAPSHOT="${SNAPSHOT:?SNAPSHOT is required}"
    stop_k3s
    # Reads the S3 settings and credentials from /etc/rancher/k3s/config.yaml(.d)
    # when the snapshot is a name rather than a path; exits when done.
    "$K3S_BIN" server --cluster-reset --cluster-reset-restore-path="$SNAPSHOT"
    start_k3s
    echo "restored ${SNAPSHOT}; now run STEP=rejoin on every other server, one at a time"
    ;;
  rejoin)
    stop_k3s
    if [ -d "$data" ]; then mv "$data" "${data}.before-restore.$(date +%s)"; fi
    start_k3s
    echo "server rejoining the restored cluster"
    ;;
  *) echo "STEP must be reset or rejoin, got ${STEP}" >&2; exit 1 ;;
esac
