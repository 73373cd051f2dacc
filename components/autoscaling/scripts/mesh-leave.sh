#!/usr/bin/env bash
# An autoscaled node leaves the mesh registry: its Lease is deleted (if it
# still holds it), so every other node drops it as a peer at its next sync
# instead of when the Lease expires. Run at shutdown (the ExecStop of
# sovereign-mesh-leave.service); a server deleted without a shutdown simply
# stops renewing, and its Lease expires.
#
# Parameters (environment):
#   NODE_NAME, NAMESPACE, KUBECTL, KUBECONFIG, STATE_DIR  as in mesh-register.sh
set -euo pipefail

# Facts of this boot (autoscaled nodes: written by autoscale-join.sh).
if [ -n "${NODE_ENV_FILE:-}" ] && [ -f "$NODE_ENV_FILE" ]; then
  # shellcheck disable=SC1090 # written at boot
  . "$NODE_ENV_FILE"
fi

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
NAMESPACE="${NAMESPACE:?NAMESPACE is required}"
KUBECTL="${KUBECTL:-kubectl}"
KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
STATE_DIR="${STATE_DIR:-/var/lib/sovereign/mesh}"
export KUBECONFIG

read -r -a kubectl <<< "$KUBECTL"
state="${STATE_DIR}/mesh-ip"
[ -s "$state" ] || { echo "mesh-leave: no address held"; exit 0; }
address="$(cat "$state")"
lease="mesh-${address//./-}"
holder="$("${kubectl[@]}" -n "$NAMESPACE" get lease "$lease" --ignore-not-found -o 'jsonpath={.spec.holderIdentity}')"
if [ "$holder" = "$NODE_NAME" ]; then
  "${kubectl[@]}" -n "$NAMESPACE" delete lease "$lease" --ignore-not-found > /dev/null
  echo "mesh-leave: ${address} released"
else
  echo "mesh-leave: ${address} is not held by ${NODE_NAME} (holder: ${holder:-none})"
fi
