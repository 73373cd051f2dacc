#!/usr/bin/env bash
# Stop K3s on a node that leaves the cluster and wipe its state, so the
# machine can never rejoin as a stale etcd member. Runs after the member
# command on the first server has drained it and removed it from etcd.
# The first server has no member command: LEAVE_SCRIPT (k3s-member-remove.sh
# with SELF=true) takes it out of etcd first, only if quorum survives, and
# a failure stops here with nothing wiped.
# Idempotent: a node without K3s is left as it is.
set -euo pipefail

K3S_ROLE="${K3S_ROLE:?K3S_ROLE is required}"
LEAVE_SCRIPT="${LEAVE_SCRIPT:-}"
if [ -n "$LEAVE_SCRIPT" ] && [ -x "${K3S_BIN:-/usr/local/bin/k3s}" ]; then
  bash -c "$LEAVE_SCRIPT"
fi
service=k3s
[ "$K3S_ROLE" = "agent" ] && service=k3s-agent

if [ -d /run/systemd/system ] && [ -f "/etc/systemd/system/${service}.service" ]; then
  systemctl disable --now "$service" > /dev/null 2>&1 || true
  rm -f "/etc/systemd/system/${service}.service"
  systemctl daemon-reload
elif [ -s "/run/${service}.pid" ]; then
  kill "$(cat "/run/${service}.pid")" 2> /dev/null || true
  rm -f "/run/${service}.pid"
fi
# Containers keep running after K3s stops (KillMode=process): stop them.
for pid in $(pgrep -f '/var/lib/rancher/k3s/data/.*/containerd-shim' || true); do
  kill "$pid" 2> /dev/null || true
done
rm -rf /var/lib/rancher/k3s /etc/rancher/k3s
echo "k3s ${K3S_ROLE} removed"
