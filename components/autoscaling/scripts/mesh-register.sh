#!/usr/bin/env bash
# Claim (first run) or renew (every later run) this autoscaled node's mesh
# address, and publish its WireGuard public key and endpoints with it.
#
# The registry is a Lease per mesh address in NAMESPACE, named
# mesh-<a>-<b>-<c>-<d> (components/autoscaling/registry.py). Creating a Lease
# is atomic (the API refuses a second one of the same name) and taking over
# an expired one is a replace carrying its resourceVersion (the API refuses
# it if anybody changed the Lease meanwhile): two new servers never get the
# same address. A node keeps its address while it renews the Lease; the
# other nodes drop it as a peer when the Lease expires (scale-down: the
# server is deleted and stops renewing).
#
# Parameters (environment; lists one item a line; NODE_ENV_FILE, when set,
# is read first):
#   NODE_NAME        the server's name (the holder identity)
#   NODE_GROUP       its node group
#   SLOTS            the mesh addresses of the group's autoscaled nodes, best first
#   NAMESPACE        namespace of the registry Leases
#   PEER_LABEL       label key every registry Lease carries (value "true")
#   LEASE_SECONDS    lease duration; renew well within it (every third of it)
#   PUBLIC_ADDRESS   where the other nodes dial this one
#   PRIVATE_ADDRESS  its address on the provider private network ("" if none)
#   PRIVATE_NETWORK  that network's id (nodes sharing it dial PRIVATE_ADDRESS)
#   KUBECTL          kubectl command line (e.g. "/usr/local/bin/k3s kubectl")
#   KUBECONFIG       credentials of the registrar ServiceAccount
#   WG_INTERFACE     wg0 (the key made by wg-keys.sh)
#   STATE_DIR        where the claimed address is kept (/var/lib/sovereign/mesh)
# Prints the claimed address. Exits non-zero, changing nothing, when the
# API cannot be reached or every slot is held.
set -euo pipefail

# Facts of this boot (autoscaled nodes: written by autoscale-join.sh).
if [ -n "${NODE_ENV_FILE:-}" ] && [ -f "$NODE_ENV_FILE" ]; then
  # shellcheck disable=SC1090 # written at boot
  . "$NODE_ENV_FILE"
fi

NODE_NAME="${NODE_NAME:?NODE_NAME is required}"
NODE_GROUP="${NODE_GROUP:?NODE_GROUP is required}"
SLOTS="${SLOTS:?SLOTS is required}"
NAMESPACE="${NAMESPACE:?NAMESPACE is required}"
PEER_LABEL="${PEER_LABEL:?PEER_LABEL is required}"
LEASE_SECONDS="${LEASE_SECONDS:-60}"
PUBLIC_ADDRESS="${PUBLIC_ADDRESS:?PUBLIC_ADDRESS is required}"
PRIVATE_ADDRESS="${PRIVATE_ADDRESS:-}"
PRIVATE_NETWORK="${PRIVATE_NETWORK:-}"
KUBECTL="${KUBECTL:-kubectl}"
KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
WG_INTERFACE="${WG_INTERFACE:-wg0}"
STATE_DIR="${STATE_DIR:-/var/lib/sovereign/mesh}"
export KUBECONFIG

read -r -a kubectl <<< "$KUBECTL"
key_file="/etc/wireguard/${WG_INTERFACE}.key"
[ -s "$key_file" ] || { echo "missing ${key_file}: run wg-keys.sh first" >&2; exit 1; }
public_key="$(wg pubkey < "$key_file")"
state="${STATE_DIR}/mesh-ip"
mkdir -p "$STATE_DIR"

now_micro() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
epoch_of() { date -u -d "$1" +%s 2> /dev/null || echo 0; }
lease_of() { printf 'mesh-%s' "${1//./-}"; }

# The Lease as JSON; $1 address, $2 resourceVersion ("" to create), $3 acquireTime.
lease_json() {
  local rv=""
  [ -z "$2" ] || rv="$(printf ',"resourceVersion":"%s"' "$2")"
  printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s","namespace":"%s"%s,' \
    "$(lease_of "$1")" "$NAMESPACE" "$rv"
  printf '"labels":{"%s":"true","sovereign.cloud/node-group":"%s"},' "$PEER_LABEL" "$NODE_GROUP"
  printf '"annotations":{"sovereign.cloud/mesh-ip":"%s","sovereign.cloud/wg-public-key":"%s",' "$1" "$public_key"
  printf '"sovereign.cloud/public-address":"%s","sovereign.cloud/private-address":"%s",' "$PUBLIC_ADDRESS" "$PRIVATE_ADDRESS"
  printf '"sovereign.cloud/private-network":"%s"}},' "$PRIVATE_NETWORK"
  printf '"spec":{"holderIdentity":"%s","leaseDurationSeconds":%s,"acquireTime":"%s","renewTime":"%s"}}\n' \
    "$NODE_NAME" "$LEASE_SECONDS" "$3" "$(now_micro)"
}

# "resourceVersion|holder|renewTime|duration|acquireTime" of a Lease, "" when absent.
current() {
  "${kubectl[@]}" -n "$NAMESPACE" get lease "$(lease_of "$1")" --ignore-not-found -o \
    'jsonpath={.metadata.resourceVersion}|{.spec.holderIdentity}|{.spec.renewTime}|{.spec.leaseDurationSeconds}|{.spec.acquireTime}'
}

# try_claim ADDRESS: 0 when this node holds it afterwards.
try_claim() {
  local address="$1" found rv holder renew duration acquired
  found="$(current "$address")" || return 2
  if [ -z "$found" ]; then
    lease_json "$address" "" "$(now_micro)" | "${kubectl[@]}" create -f - > /dev/null 2>&1
    return
  fi
  IFS='|' read -r rv holder renew duration acquired <<< "$found"
  if [ "$holder" != "$NODE_NAME" ] && [ $(($(epoch_of "$renew") + ${duration:-0})) -gt "$(date +%s)" ]; then
    return 1  # held by a live node
  fi
  [ "$holder" = "$NODE_NAME" ] || acquired="$(now_micro)"
  lease_json "$address" "$rv" "${acquired:-$(now_micro)}" | "${kubectl[@]}" replace -f - > /dev/null 2>&1
}

if [ -s "$state" ]; then
  # Renewal: the address is this node's for life (kubelet and the mesh use it).
  address="$(cat "$state")"
  found="$(current "$address")"
  holder="$(cut -d'|' -f2 <<< "$found")"
  if [ -n "$found" ] && [ "$holder" != "$NODE_NAME" ]; then
    echo "mesh address ${address} is now held by ${holder}: this node's lease expired; the node must be" \
      "replaced (drain it and delete the server)" >&2
    exit 3
  fi
  try_claim "$address" || { echo "renewing the lease of ${address} failed" >&2; exit 1; }
  echo "$address"
  exit 0
fi

mapfile -t slots < <(grep . <<< "$SLOTS")
count="${#slots[@]}"
[ "$count" -gt 0 ] || { echo "SLOTS is empty" >&2; exit 1; }
start=$((16#$(printf '%s' "$NODE_NAME" | sha256sum | cut -c1-8) % count))
for ((i = 0; i < count; i++)); do
  address="${slots[$(((start + i) % count))]}"
  if try_claim "$address"; then
    printf '%s\n' "$address" > "${state}.new"
    mv "${state}.new" "$state"
    echo "$address"
    exit 0
  elif [ "$?" -eq 2 ]; then
    echo "the Kubernetes API did not answer (KUBECONFIG ${KUBECONFIG})" >&2
    exit 1
  fi
done
echo "no free mesh address for ${NODE_NAME}: all ${count} autoscaled slots of group ${NODE_GROUP} are held" >&2
exit 1
