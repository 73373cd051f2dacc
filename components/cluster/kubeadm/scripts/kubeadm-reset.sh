#!/usr/bin/env bash
# The node leaves: undo kubeadm init/join on it (after the member command on
# the first control plane drained it and, for stacked etcd, removed its
# etcd member). Idempotent: a node that never joined is left as it is.
set -euo pipefail

if [ ! -f /etc/kubernetes/kubelet.conf ] && [ ! -d /etc/kubernetes/manifests ]; then
  echo "not a cluster member: nothing to do"
  exit 0
fi
kubeadm reset --force >&2
# What kubeadm reset leaves behind by design.
rm -rf /etc/cni/net.d /etc/kubernetes/enc /etc/kubernetes/kubeadm-init.yaml
echo "node reset"
