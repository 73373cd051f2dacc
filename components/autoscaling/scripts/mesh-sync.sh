#!/usr/bin/env bash
# Keep this node's WireGuard peers equal to the mesh registry: the autoscaled
# nodes (a live Lease each, see mesh-register.sh) and, on an autoscaled node
# itself, the static nodes too (the ConfigMap Pulumi writes).
#
# Runs every SYNC_SECONDS from a timer (mesh-agent-install.sh) on every node.
# Peers added here are written to /etc/wireguard/<if>.dynamic-peers, which
# wg-apply.sh (Pulumi's own peer list) keeps and wg-prune.sh leaves alone, so
# a `pulumi up` never drops an autoscaled node. Changes are applied live with
# `wg set` (no tunnel restarts).
#
# A registration is used only when its Lease is live (renewTime +
# leaseDurationSeconds in the future), its address is one of SLOTS (never a
# static node's) and its key and addresses are well-formed; an expired one
# (the server was deleted: scale-down) is removed as a peer. If the API does
# not answer, nothing changes: an outage of the API never cuts the mesh.
#
# Parameters (environment; lists one item a line):
#   WG_INTERFACE      wg0
#   LISTEN_PORT       the mesh's WireGuard port (every node listens on it)
#   SLOTS             "address group" of every autoscaled slot of the cluster
#   NAMESPACE         namespace of the registry
#   PEER_LABEL        label key of the registry Leases
#   STATIC_CONFIGMAP  "" on static nodes; on autoscaled ones the ConfigMap
#                     listing the static peers
#   PRIVATE_NETWORK   this node's provider private network id ("" if none)
#   KEEPALIVE         persistent keepalive of every peer (25)
#   KUBECTL           kubectl command line
#   KUBECONFIG        credentials that may read the registry
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
LISTEN_PORT="${LISTEN_PORT:?LISTEN_PORT is required}"
SLOTS="${SLOTS:-}"
NAMESPACE="${NAMESPACE:?NAMESPACE is required}"
PEER_LABEL="${PEER_LABEL:?PEER_LABEL is required}"
STATIC_CONFIGMAP="${STATIC_CONFIGMAP:-}"
PRIVATE_NETWORK="${PRIVATE_NETWORK:-}"
KEEPALIVE="${KEEPALIVE:-25}"
KUBECTL="${KUBECTL:-kubectl}"
KUBECONFIG="${KUBECONFIG:?KUBECONFIG is required}"
export KUBECONFIG

read -r -a kubectl <<< "$KUBECTL"
dynamic="/etc/wireguard/${WG_INTERFACE}.dynamic-peers"
conf="/etc/wireguard/${WG_INTERFACE}.conf"
ip link show dev "$WG_INTERFACE" > /dev/null 2>&1 || { echo "${WG_INTERFACE} is not up" >&2; exit 1; }
own_key="$(wg show "$WG_INTERFACE" public-key)"

key_ok() { [[ "$1" =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]]; }
ipv4_ok() { [[ "$1" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]]; }
is_slot() { awk -v ip="$1" '$1 == ip { found = 1 } END { exit !found }' <<< "$SLOTS"; }
epoch_of() { date -u -d "$1" +%s 2> /dev/null || echo 0; }

# "<key> <endpoint or -> <mesh ip>/32 <keepalive>" (wg-apply.sh's PEERS format).
peer_line() {
  local key="$1" mesh_ip="$2" public="$3" private="$4" network="$5" endpoint="-"
  if [ -n "$PRIVATE_NETWORK" ] && [ "$network" = "$PRIVATE_NETWORK" ] && [ -n "$private" ]; then
    endpoint="${private}:${LISTEN_PORT}"
  elif [ -n "$public" ]; then
    endpoint="${public}:${LISTEN_PORT}"
  fi
  printf '%s %s %s/32 %s\n' "$key" "$endpoint" "$mesh_ip" "$KEEPALIVE"
}

registrations() {
  "${kubectl[@]}" -n "$NAMESPACE" get leases -l "${PEER_LABEL}=true" -o 'jsonpath={range .items[*]}{.metadata.name}|{.spec.holderIdentity}|{.spec.renewTime}|{.spec.leaseDurationSeconds}|{.metadata.annotations.sovereign\.cloud/mesh-ip}|{.metadata.annotations.sovereign\.cloud/wg-public-key}|{.metadata.annotations.sovereign\.cloud/public-address}|{.metadata.annotations.sovereign\.cloud/private-address}|{.metadata.annotations.sovereign\.cloud/private-network}{"\n"}{end}'
}

static_peers() {
  [ -n "$STATIC_CONFIGMAP" ] || return 0
  "${kubectl[@]}" -n "$NAMESPACE" get configmap "$STATIC_CONFIGMAP" -o 'jsonpath={.data.peers}'
}

# Read everything first: a failed read changes nothing.
leases="$(registrations)" || { echo "mesh-sync: the registry could not be read; peers unchanged" >&2; exit 1; }
statics="$(static_peers)" || { echo "mesh-sync: the static peers could not be read; peers unchanged" >&2; exit 1; }

now="$(date +%s)"
desired=""
seen_keys=" ${own_key} "
while IFS='|' read -r name _ renew duration mesh_ip key public private network; do
  [ -n "$name" ] || continue
  [ $(($(epoch_of "$renew") + ${duration:-0})) -gt "$now" ] || continue  # expired: left the cluster
  if ! is_slot "$mesh_ip" || [ "$name" != "mesh-${mesh_ip//./-}" ] || ! key_ok "$key" || ! ipv4_ok "$public" ||
    { [ -n "$private" ] && ! ipv4_ok "$private"; }; then
    echo "mesh-sync: ignoring registration ${name} (address not an autoscaled slot, or malformed)" >&2
    continue
  fi
  [[ "$seen_keys" != *" ${key} "* ]] || continue
  seen_keys+="${key} "
  desired+="$(peer_line "$key" "$mesh_ip" "$public" "$private" "$network")"$'\n'
done <<< "$leases"
while IFS='|' read -r name mesh_ip key public private network; do
  [ -n "$name" ] || continue
  key_ok "$key" || continue
  [[ "$seen_keys" != *" ${key} "* ]] || continue
  seen_keys+="${key} "
  desired+="$(peer_line "$key" "$mesh_ip" "$public" "$private" "$network")"$'\n'
done <<< "$statics"
desired="$(sort <<< "$desired" | grep . || true)"

previous=""
[ -f "$dynamic" ] && previous="$(cat "$dynamic")"
added=0
removed=0
# Peers that left: removed, unless Pulumi's own configuration has them.
while read -r key _; do
  [ -n "$key" ] || continue
  grep -q "^${key} " <<< "$desired" && continue
  grep -qxF "PublicKey = ${key}" "$conf" 2> /dev/null && continue
  wg set "$WG_INTERFACE" peer "$key" remove
  removed=$((removed + 1))
done <<< "$previous"
# New or changed peers (wg set replaces a peer's allowed IPs and endpoint).
while read -r key endpoint allowed keepalive; do
  [ -n "$key" ] || continue
  grep -qxF "${key} ${endpoint} ${allowed} ${keepalive}" <<< "$previous" &&
    wg show "$WG_INTERFACE" peers | grep -qxF "$key" && continue
  args=(peer "$key" allowed-ips "$allowed" persistent-keepalive "$keepalive")
  [ "$endpoint" = "-" ] || args+=(endpoint "$endpoint")
  wg set "$WG_INTERFACE" "${args[@]}"
  added=$((added + 1))
done <<< "$desired"

umask 077
printf '%s\n' "$desired" > "${dynamic}.new"
mv "${dynamic}.new" "$dynamic"
echo "mesh-sync: $(grep -c . <<< "$desired" || true) dynamic peers, ${added} added or changed, ${removed} removed"
