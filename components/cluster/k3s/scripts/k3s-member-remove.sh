#!/usr/bin/env bash
# On the first server: take a node out of the cluster safely.
#
# Parameters (environment):
#   NODE_NAME  the node that leaves
#   NODE_IP    its mesh IP (its etcd client URL is https://NODE_IP:2379)
#   K3S_ROLE   server | agent
#   K3S_BIN    the k3s binary (default /usr/local/bin/k3s)
#   SELF       true: run by the leaving server itself (the first server has
#              no member command); as the sole etcd member left, it hands
#              nothing over (the whole cluster is being destroyed)
#
# A server is an etcd member: it is removed from etcd FIRST, and only if
# the members that stay healthy still form a quorum of the smaller
# cluster; otherwise nothing is touched and the script fails (Pulumi keeps
# the resource). Then the node is drained and deleted. Pulumi removes
# servers one at a time (each server's resources depend on the previous
# one's). Idempotent: an unknown node is already gone.
#
# An API or etcd that does not answer is never taken for "already gone" or
# "last member" (what a mesh outage looks like from here): the script
# fails, nothing is touched, and the node's uninstall (which wipes it) does
# not run.
set -euo pipefail

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
NODE_IP="${NODE_IP:?NODE_IP is required}"
K3S_ROLE="${K3S_ROLE:?K3S_ROLE is required}"
K3S_BIN="${K3S_BIN:-/usr/local/bin/k3s}"
SELF="${SELF:-false}"
kubectl=("$K3S_BIN" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml)
tls=/var/lib/rancher/k3s/server/tls/etcd

etcd() {
  curl -fsS --max-time 5 --cacert "${tls}/server-ca.crt" --cert "${tls}/server-client.crt" \
    --key "${tls}/server-client.key" "$@"
}
client_urls() {
  etcd -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list \
    | grep -o '"clientURLs":\["[^"]*"' | sed 's/.*\["//; s/"$//'
}

if ! found="$("${kubectl[@]}" get node "$NODE_NAME" --ignore-not-found -o name)"; then
  echo "cannot ask the Kubernetes API here whether ${NODE_NAME} is a node; nothing changed." \
    "Bring K3s on this server and the mesh back, then run Pulumi again." >&2
  exit 1
fi
if [ -z "$found" ]; then
  echo "node ${NODE_NAME} is not in the cluster: nothing to do"
  exit 0
fi

if [ "$K3S_ROLE" = "server" ]; then
  if ! members="$(client_urls)"; then
    echo "refusing to remove ${NODE_NAME}: etcd on this server does not answer its member list;" \
      "nothing changed. Bring it back (is K3s running?), then run Pulumi again." >&2
    exit 1
  fi
  mapfile -t urls <<< "$members"
  total="${#urls[@]}"
  healthy_others=0
  member=false
  for url in "${urls[@]}"; do
    if [ "$url" = "https://${NODE_IP}:2379" ]; then member=true; continue; fi
    if etcd "${url}/health" 2> /dev/null | grep -q '"health":"true"'; then
      healthy_others=$((healthy_others + 1))
    fi
  done
  if [ "$SELF" = "true" ] && [ "$total" -le 1 ]; then
    echo "${NODE_NAME} is the last etcd member: nothing to hand over"
    exit 0
  fi
  if [ "$member" = "true" ]; then
    remaining=$((total - 1))
    quorum=$((remaining / 2 + 1))
    if [ "$remaining" -lt 1 ] || [ "$healthy_others" -lt "$quorum" ]; then
      echo "refusing to remove ${NODE_NAME}: ${healthy_others} healthy member(s) would stay of ${remaining}, quorum needs ${quorum}" >&2
      exit 1
    fi
  fi
fi

"${kubectl[@]}" cordon "$NODE_NAME" > /dev/null
"${kubectl[@]}" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout=300s > /dev/null

if [ "$K3S_ROLE" = "server" ] && [ "${member:-false}" = "true" ]; then
  # K3s's etcd controller removes the member; wait until it is gone.
  "${kubectl[@]}" annotate --overwrite node "$NODE_NAME" etcd.k3s.cattle.io/remove=true > /dev/null
  deadline=$((SECONDS + 180))
  # Gone only when etcd answers without it (an error is not a removal).
  until members="$(client_urls)" && ! grep -qx "https://${NODE_IP}:2379" <<< "$members"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "etcd member of ${NODE_NAME} still present after 180s" >&2
      exit 1
    fi
    sleep 3
  done
fi
"${kubectl[@]}" delete node "$NODE_NAME" --wait=true > /dev/null
echo "node ${NODE_NAME} removed"
