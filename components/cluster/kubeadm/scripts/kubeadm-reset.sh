#!/usr/bin/env bash
# The node leaves: undo kubeadm init/join on it (after the member command on
# the first control plane drained it and, for stacked etcd, removed its
# etcd member). The first control plane has no member command: LEAVE_SCRIPT
# (kubeadm-member-remove.sh with SELF=true) does that first, quorum checked,
# and a failure stops here with nothing reset.
# Idempotent: a node that never joined is left as it is.
set -euo pipefail

LEAVE_SCRIPT="${LEAVE_SCRIPT:-}"

if [ ! -f /etc/kubernetes/kubelet.conf ] && [ ! -d /etc/kubernetes/manifests ]; then
  echo "not a cluster member: nothing to do"
  exit 0
fi
if [ -n "$LEAVE_SCRIPT" ] && [ -f /etc/kubernetes/admin.conf ]; then
  bash -c "$LEAVE_SCRIPT"
fi
kubeadm reset --force >&2
# What kubeadm reset leaves behind by design.
rm -rf /etc/cni/net.d /etc/kubernetes/enc /etc/kubernetes/kubeadm-init.yaml
echo "node reset"
