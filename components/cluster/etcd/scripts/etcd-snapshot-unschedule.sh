#!/usr/bin/env bash
# Stop this node's scheduled etcd snapshots (the member leaves the spec):
# the cron entry, the systemd timer or the loop of etcd-snapshot-schedule.sh.
# Snapshots already taken stay where they are.
#
# Parameters (environment):
#   REMOVE_ETCDCTL_ENV  true: /etc/etcd/etcdctl.env was written by the
#                       schedule (kubeadm's stacked etcd): remove it too
# stdout: one summary line.
set -euo pipefail

REMOVE_ETCDCTL_ENV="${REMOVE_ETCDCTL_ENV:-false}"
LOOP_PID=/run/etcd/snapshot-loop.pid

rm -f /etc/cron.d/etcd-snapshot
if [ -d /run/systemd/system ]; then
  systemctl disable --now etcd-snapshot.timer > /dev/null 2>&1 || true
  rm -f /etc/systemd/system/etcd-snapshot.timer /etc/systemd/system/etcd-snapshot.service
  systemctl daemon-reload
fi
pid="$(cat "$LOOP_PID" 2> /dev/null || true)"
# Only our loop (a recycled pid is someone else's process).
if [ -n "$pid" ] && grep -qs etcd-snapshot.sh "/proc/${pid}/cmdline"; then kill "$pid"; fi
rm -f "$LOOP_PID" /etc/etcd/etcd-snapshot.sh /etc/etcd/etcd-snapshot.interval /etc/etcd/s3.env
if [ "$REMOVE_ETCDCTL_ENV" = true ]; then
  rm -f /etc/etcd/etcdctl.env
  rmdir /etc/etcd 2> /dev/null || true
fi
echo "etcd snapshots: unscheduled"
