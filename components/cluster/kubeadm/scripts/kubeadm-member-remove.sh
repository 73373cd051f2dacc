#!/usr/bin/env bash
# On the first control plane: take a node out of the cluster safely.
#
# Parameters (environment):
#   NODE_NAME     the node that leaves
#   NODE_IP       its mesh IP
#   ROLE          control-plane | worker
#   STACKED_ETCD  true when control planes carry etcd (no external etcd)
#   SELF          true: run by the leaving control plane itself (the first
#                 one has no member command); as the last control plane
#                 left, it hands nothing over (the cluster is being destroyed)
#
# A control plane leaves only if another control plane stays Ready. With
# stacked etcd its member is removed FIRST, and only if the members that
# stay healthy still form a quorum of the smaller cluster. Then the node
# is drained and deleted; kubeadm reset on the node follows. Control
# planes leave one at a time (each depends on the previous one).
# Idempotent: an unknown node is already gone. An API that does not answer
# is never taken for "already gone" or "last control plane" (what a mesh
# outage looks like from here): the script fails and nothing is touched, so
# the node's kubeadm reset (which wipes it) does not run.
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
NODE_IP="${NODE_IP:?NODE_IP is required}"
ROLE="${ROLE:?ROLE is required}"
STACKED_ETCD="${STACKED_ETCD:-false}"
SELF="${SELF:-false}"
export KUBECONFIG=/etc/kubernetes/admin.conf
pki=/etc/kubernetes/pki/etcd

if ! found="$(kubectl get node "$NODE_NAME" --ignore-not-found -o name)"; then
  echo "cannot ask the Kubernetes API here whether ${NODE_NAME} is a node; nothing changed." \
    "Bring the API on this control plane and the mesh back, then run Pulumi again." >&2
  exit 1
fi
if [ -z "$found" ]; then
  echo "node ${NODE_NAME} is not in the cluster: nothing to do"
  exit 0
fi

etcd() {
  curl -fsS --max-time 5 --cacert "${pki}/ca.crt" --cert "${pki}/healthcheck-client.crt" \
    --key "${pki}/healthcheck-client.key" "$@"
}

if [ "$ROLE" = "control-plane" ]; then
  # Control planes, name and Ready status a line (an API error stops here).
  cps="$(kubectl get nodes -l node-role.kubernetes.io/control-plane \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
  others="$(awk -v me="$NODE_NAME" '$1 != "" && $1 != me && $2 == "True"' <<< "$cps" | grep -c . || true)"
  total="$(grep -c . <<< "$cps" || true)"
  if [ "$SELF" = "true" ] && [ "$total" -le 1 ]; then
    echo "${NODE_NAME} is the last control plane: nothing to hand over"
    exit 0
  fi
  if [ "$others" -lt 1 ]; then
    echo "refusing to remove ${NODE_NAME}: it is the last Ready control plane" >&2
    exit 1
  fi
  if [ "$STACKED_ETCD" = "true" ]; then
    members="$(etcd -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list)"
    mapfile -t urls < <(grep -o '"clientURLs":\["[^"]*"' <<< "$members" | sed 's/.*\["//; s/"$//')
    healthy=0
    for url in "${urls[@]}"; do
      [ "$url" = "https://${NODE_IP}:2379" ] && continue
      if etcd "${url}/health" 2> /dev/null | grep -q '"health":"true"'; then healthy=$((healthy + 1)); fi
    done
    remaining=$((${#urls[@]} - 1))
    quorum=$((remaining / 2 + 1))
    if [ "$healthy" -lt "$quorum" ]; then
      echo "refusing to remove ${NODE_NAME}: ${healthy} healthy etcd member(s) would stay of ${remaining}, quorum needs ${quorum}" >&2
      exit 1
    fi
    # The member entry holding this node's client URL: {"ID":"...",...,"clientURLs":["https://NODE_IP:2379"]}
    id="$(grep -o '{"ID":"[0-9]*"[^}]*"clientURLs":\["https://'"${NODE_IP//./\\.}"':2379"' <<< "$members" \
      | sed 's/{"ID":"\([0-9]*\)".*/\1/' || true)"
    if [ -n "$id" ]; then
      etcd -X POST -d "{\"ID\":\"${id}\"}" https://127.0.0.1:2379/v3/cluster/member/remove > /dev/null
    fi
  fi
fi

kubectl cordon "$NODE_NAME" > /dev/null
kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout=300s > /dev/null
kubectl delete node "$NODE_NAME" --wait=true > /dev/null
echo "node ${NODE_NAME} removed"
