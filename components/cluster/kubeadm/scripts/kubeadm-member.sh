#!/usr/bin/env bash
# On the first control plane: wait until a joining node is registered, then
# clear its pending join (kubeadm-join-credentials.sh): nothing keeps its
# join credentials alive any longer.
#
# Parameters (environment):
#   NODE_NAME     the node that joined
#   WAIT_SECONDS  deadline
#   STATE_DIR     pending joins (/etc/kubernetes/sovereign-joins)
# (The delete path of the same resource is kubeadm-member-remove.sh.)
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
STATE_DIR="${STATE_DIR:-/etc/kubernetes/sovereign-joins}"
export KUBECONFIG=/etc/kubernetes/admin.conf

deadline=$((SECONDS + WAIT_SECONDS))
until kubectl get node "$NODE_NAME" > /dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "node ${NODE_NAME} not registered after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 3
done
rm -f "${STATE_DIR}/pending/${NODE_NAME}"
echo "node ${NODE_NAME} registered"
