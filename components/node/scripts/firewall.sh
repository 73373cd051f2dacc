#!/usr/bin/env bash
# nftables firewall of a node, in its own table so the CNI's and
# kube-proxy's rules (other tables) are never flushed.
#
# Parameters (environment; lists are newline or space separated):
#   MESH_INTERFACE       the WireGuard interface (wg0)
#   MESH_CIDR            mesh address range, e.g. 10.42.0.0/16
#   WG_PORT              WireGuard UDP port, open to everybody
#   SSH_PORT             SSH port
#   SSH_SOURCE_CIDRS     who may SSH in over the public interface
#   PUBLISHED_TCP_PORTS  ports open to everybody (80/443 on ingress nodes)
#   PUBLISHED_UDP_PORTS  UDP ports open to everybody (a Submariner gateway's IPsec ports)
#   API_PORT             the Kubernetes API port (6443)
#   API_SOURCE_CIDRS     who may reach the API over the public interface
#                        (control planes only: the operator, CI); empty: mesh only
#   CLUSTER_TCP_PORTS    cluster ports, reachable over the mesh only (6443, 2379-2380, ...)
#   CLUSTER_UDP_PORTS    cluster UDP ports over the mesh only (VXLAN ...)
#   POD_CIDR             optional: pods may reach host services (kubelet, DNS)
#   POD_INTERFACES       interfaces pod traffic arrives on, "name" or "prefix*"
#                        (the CNI's: cali*, lxc*, cilium_*, vxlan.calico, ...).
#                        POD_CIDR sources are accepted there only: on the
#                        public interface a pod address is spoofable (from the
#                        internet or a provider private network) and must not
#                        open cluster ports.
#   CONNECTED_CIDRS      optional: pod and service networks of the clusters this one is
#                        connected to (a fleet's data domain, components/fleet/ports.py),
#                        forwarded when they arrive decrypted from IPsec or on the mesh,
#                        a pod or a TUNNEL_INTERFACES interface (never straight from the
#                        public side, where any source is spoofable); other clusters stay dropped
#   TUNNEL_INTERFACES    interfaces of cross-cluster traffic inside the cluster (vx-submariner)
#   DRY_RUN              true: render to RENDER_DIR and check with `nft -c`, apply nothing
#
# Input and forward are filtered (policy drop). Kubernetes needs
# ip_forward=1; without a forward filter anybody routing to this node could
# reach pod and mesh addresses and every hostPort. Forwarded are: replies,
# traffic from the mesh (other nodes and their pods, relayed mesh peers),
# traffic from pods, and DNAT'ed connections to a published port (hostPort,
# LoadBalancer). nftables drops a packet that any base chain drops, so the
# CNI's and kube-proxy's own accepts (other tables) cannot open more.
set -euo pipefail

MESH_INTERFACE="${MESH_INTERFACE:-wg0}"
MESH_CIDR="${MESH_CIDR:?MESH_CIDR is required}"
WG_PORT="${WG_PORT:?WG_PORT is required}"
SSH_PORT="${SSH_PORT:-22}"
SSH_SOURCE_CIDRS="${SSH_SOURCE_CIDRS:-0.0.0.0/0}"
PUBLISHED_TCP_PORTS="${PUBLISHED_TCP_PORTS:-}"
PUBLISHED_UDP_PORTS="${PUBLISHED_UDP_PORTS:-}"
CONNECTED_CIDRS="${CONNECTED_CIDRS:-}"
TUNNEL_INTERFACES="${TUNNEL_INTERFACES:-}"
API_PORT="${API_PORT:-6443}"
API_SOURCE_CIDRS="${API_SOURCE_CIDRS:-}"
CLUSTER_TCP_PORTS="${CLUSTER_TCP_PORTS:-}"
CLUSTER_UDP_PORTS="${CLUSTER_UDP_PORTS:-}"
POD_CIDR="${POD_CIDR:-}"
POD_INTERFACES="${POD_INTERFACES:-cali* lxc* cilium_* vxlan.calico flannel.1 cni0 tunl0}"
DRY_RUN="${DRY_RUN:-false}"
RENDER_DIR="${RENDER_DIR:-/etc/nftables.d}"

rules_file="${RENDER_DIR}/sovereign.nft"

# "a b\nc" -> "a, b, c" (an nft set body)
as_set() { tr ' \n' ',,' <<< "$1" | tr -s ',' | sed -e 's/^,//' -e 's/,$//' -e 's/,/, /g'; }

# The pod interfaces, checked: a name or prefix*, and nothing that matches
# the mesh interface (a lone "*" would match the public one too).
read -r -a pod_interfaces <<< "$(tr '\n' ' ' <<< "$POD_INTERFACES")"
for name in "${pod_interfaces[@]}"; do
  if ! [[ "$name" =~ ^[A-Za-z0-9_.-]+\*?$ ]]; then
    echo "POD_INTERFACES: '${name}' is not an interface name or prefix*" >&2
    exit 1
  fi
  # shellcheck disable=SC2053 # the right side is a pattern on purpose
  if [[ "$MESH_INTERFACE" == $name ]]; then
    echo "POD_INTERFACES: ${name} matches the mesh interface ${MESH_INTERFACE}" >&2
    exit 1
  fi
done

read -r -a tunnel_interfaces <<< "$(tr '\n' ' ' <<< "$TUNNEL_INTERFACES")"
for name in "${tunnel_interfaces[@]}"; do
  if ! [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || [ "$name" = "$MESH_INTERFACE" ]; then
    echo "TUNNEL_INTERFACES: '${name}' is not an interface name other than the mesh's" >&2
    exit 1
  fi
done

render_rules() {
  local published published_udp connected cluster_tcp cluster_udp api_sources ifname
  published="$(as_set "$PUBLISHED_TCP_PORTS")"
  published_udp="$(as_set "$PUBLISHED_UDP_PORTS")"
  connected="$(as_set "$CONNECTED_CIDRS")"
  api_sources="$(as_set "$API_SOURCE_CIDRS")"
  cluster_tcp="$(as_set "$CLUSTER_TCP_PORTS")"
  cluster_udp="$(as_set "$CLUSTER_UDP_PORTS")"
  # The first two lines make the load atomic and repeatable: create the
  # table if missing, drop it, then define it again in one transaction.
  echo "table inet sovereign"
  echo "delete table inet sovereign"
  echo "table inet sovereign {"
  echo "  set ssh_sources { type ipv4_addr; flags interval; elements = { $(as_set "$SSH_SOURCE_CIDRS") } }"
  [ -z "$api_sources" ] || echo "  set api_sources { type ipv4_addr; flags interval; elements = { ${api_sources} } }"
  [ -z "$connected" ] || echo "  set connected_clusters { type ipv4_addr; flags interval; elements = { ${connected} } }"
  echo "  chain input {"
  echo "    type filter hook input priority filter; policy drop;"
  echo "    ct state established,related accept"
  echo "    ct state invalid drop"
  echo "    iifname \"lo\" accept"
  echo "    meta l4proto { icmp, ipv6-icmp } accept comment \"ping and path MTU discovery\""
  echo "    udp dport ${WG_PORT} accept comment \"wireguard mesh\""
  echo "    tcp dport ${SSH_PORT} ip saddr @ssh_sources accept comment \"ssh\""
  echo "    iifname \"${MESH_INTERFACE}\" tcp dport ${SSH_PORT} accept comment \"ssh over the mesh\""
  [ -z "$published" ] || echo "    tcp dport { ${published} } accept comment \"published\""
  [ -z "$published_udp" ] || echo "    udp dport { ${published_udp} } accept comment \"published (udp)\""
  [ -z "$api_sources" ] || echo "    tcp dport ${API_PORT} ip saddr @api_sources accept comment \"kubernetes API for operators\""
  [ -z "$cluster_tcp" ] || echo "    iifname \"${MESH_INTERFACE}\" ip saddr ${MESH_CIDR} tcp dport { ${cluster_tcp} } accept comment \"cluster, mesh only\""
  [ -z "$cluster_udp" ] || echo "    iifname \"${MESH_INTERFACE}\" ip saddr ${MESH_CIDR} udp dport { ${cluster_udp} } accept comment \"cluster, mesh only\""
  if [ -n "$POD_CIDR" ]; then
    local ifname
    for ifname in "${pod_interfaces[@]}"; do
      echo "    iifname \"${ifname}\" ip saddr ${POD_CIDR} accept comment \"pods to host services\""
    done
  fi
  echo "  }"
  echo "  chain forward {"
  echo "    type filter hook forward priority filter; policy drop;"
  echo "    ct state established,related accept"
  echo "    ct state invalid drop"
  echo "    iifname \"${MESH_INTERFACE}\" ip saddr ${MESH_CIDR} accept comment \"mesh: other nodes, relayed peers\""
  if [ -n "$POD_CIDR" ]; then
    echo "    iifname \"${MESH_INTERFACE}\" ip saddr ${POD_CIDR} accept comment \"pods of other nodes over the mesh\""
    for ifname in "${pod_interfaces[@]}"; do
      echo "    iifname \"${ifname}\" ip saddr ${POD_CIDR} accept comment \"pods: to each other, the mesh and out\""
    done
  fi
  [ -z "$published" ] || echo "    ct status dnat meta l4proto tcp ct original proto-dst { ${published} } accept comment \"published (hostPort, LoadBalancer)\""
  if [ -n "$connected" ]; then
    echo "    meta secpath exists ip saddr @connected_clusters accept comment \"connected clusters, decrypted from IPsec\""
    # From the gateway on to the node of the destination pod: over the
    # mesh, the CNI's interfaces or vx-submariner (never the public side).
    for ifname in "$MESH_INTERFACE" "${pod_interfaces[@]}" "${tunnel_interfaces[@]}"; do
      echo "    iifname \"${ifname}\" ip saddr @connected_clusters accept comment \"connected clusters, inside the cluster\""
    done
  fi
  if [ -n "$POD_CIDR" ]; then
    for ifname in "${tunnel_interfaces[@]}"; do
      echo "    iifname \"${ifname}\" ip saddr ${POD_CIDR} accept comment \"pods to connected clusters, via the gateway\""
    done
  fi
  echo "  }"
  echo "}"
}

mkdir -p "$RENDER_DIR"
new="$(mktemp)"
trap 'rm -f "$new"' EXIT
render_rules > "$new"
nft -c -f "$new"

if [ "$DRY_RUN" = "true" ]; then
  install -m 644 "$new" "$rules_file"
  echo "firewall: rendered ${rules_file} (dry run)"
  exit 0
fi

if cmp -s "$new" "$rules_file" 2> /dev/null && nft list table inet sovereign > /dev/null 2>&1; then
  echo "firewall: unchanged"
  exit 0
fi
nft -f "$new"
install -m 644 "$new" "$rules_file"

# Persist: Debian's nftables.service loads /etc/nftables.conf at boot.
if [ -f /etc/nftables.conf ] && ! grep -qF "include \"${rules_file}\"" /etc/nftables.conf; then
  printf 'include "%s"\n' "$rules_file" >> /etc/nftables.conf
fi
if [ -d /run/systemd/system ]; then systemctl enable nftables > /dev/null 2>&1 || true; fi
echo "firewall: changed"
