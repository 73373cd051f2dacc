#!/usr/bin/env bash
# On the first server: wait until a joining node is registered.
#
# Parameters (environment):
#   NODE_NAME     the node that joined
#   WAIT_SECONDS  deadline
# (The delete path of the same resource is k3s-member-remove.sh.)
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
K3S_BIN="${K3S_BIN:-/usr/local/bin/k3s}"
kubectl=("$K3S_BIN" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml)

deadline=$((SECONDS + WAIT_SECONDS))
until "${kubectl[@]}" get node "$NODE_NAME" > /dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "node ${NODE_NAME} not registered after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 3
done
echo "node ${NODE_NAME} registered"
