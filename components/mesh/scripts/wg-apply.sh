#!/usr/bin/env bash
# Configure the mesh interface and apply peer changes live.
#
# Parameters (environment):
#   WG_INTERFACE  interface name (wg0)
#   MESH_ADDRESS  this node's mesh address with the mesh prefix, e.g. 10.42.3.1/16
#                 (one connected route covers every peer's /32)
#   LISTEN_PORT   UDP port
#   MTU           mesh MTU (computed by the component)
#   PEERS         one peer a line: "<public key> <host:port or -> <allowed ips,...> <keepalive or 0>"
#   RELAY         true on the node that forwards between NATed nodes
#
# The interface is created once; later runs change peers with
# `wg syncconf` and the MTU with `ip link`, never restarting the tunnel,
# so traffic keeps flowing while nodes join or leave. Prints one summary
# line; never prints the private key.
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
MESH_ADDRESS="${MESH_ADDRESS:?MESH_ADDRESS is required}"
LISTEN_PORT="${LISTEN_PORT:?LISTEN_PORT is required}"
MTU="${MTU:?MTU is required}"
PEERS="${PEERS:-}"
RELAY="${RELAY:-false}"

conf="/etc/wireguard/${WG_INTERFACE}.conf"
key_file="/etc/wireguard/${WG_INTERFACE}.key"
[ -s "$key_file" ] || { echo "missing ${key_file}: run wg-keys.sh first" >&2; exit 1; }

render_config() {
  printf '[Interface]\n'
  printf 'Address = %s\n' "$MESH_ADDRESS"
  printf 'ListenPort = %s\n' "$LISTEN_PORT"
  printf 'MTU = %s\n' "$MTU"
  printf 'PrivateKey = %s\n' "$(cat "$key_file")"
  # Runs on every bring-up, by this script or by wg-quick@ at boot (wg-quick
  # strips it before syncconf): a node that comes back starts its handshakes
  # instead of waiting for peers to notice their sessions went stale.
  printf 'PostUp = %s\n' "$START_HANDSHAKES"
  local key endpoint allowed keepalive
  while read -r key endpoint allowed keepalive; do
    [ -n "$key" ] || continue
    printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$key" "$allowed"
    if [ "$endpoint" != "-" ]; then printf 'Endpoint = %s\n' "$endpoint"; fi
    if [ "$keepalive" != "0" ]; then printf 'PersistentKeepalive = %s\n' "$keepalive"; fi
  done <<< "$PEERS"
}

current_mtu() { ip -o link show dev "$WG_INTERFACE" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

# One datagram to each peer's first allowed IP starts the handshakes now
# rather than when traffic first flows.
# shellcheck disable=SC2016  # expanded when the hook runs, not here
START_HANDSHAKES='wg show %i allowed-ips | while read -r _ ips; do printf x > "/dev/udp/${ips%%/*}/9" 2> /dev/null || true; done'

has_systemd() { [ -d /run/systemd/system ]; }

enable_forwarding() {
  # The relay routes packets between two NATed peers over wg0.
  printf 'net.ipv4.ip_forward = 1\n' > /etc/sysctl.d/90-sovereign-mesh-relay.conf
  sysctl -q -w net.ipv4.ip_forward=1
}

bring_up() {
  if has_systemd; then
    # wg-quick@ persists the mesh across reboots.
    systemctl enable --now "wg-quick@${WG_INTERFACE}" > /dev/null
  else
    # No systemd (containers, test hosts): bring it up directly; wg-quick
    # falls back to wireguard-go when the kernel has no WireGuard module.
    # Persistence there is the re-run of this script by Pulumi.
    wg-quick up "$WG_INTERFACE" > /dev/null 2>&1
  fi
}

umask 077
changed=false
tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT
# wg-quick wants "<interface>.conf" as the file name.
new="${tmpdir}/${WG_INTERFACE}.conf"
render_config > "$new"
config_changed=true
if cmp -s "$new" "$conf" 2>/dev/null; then config_changed=false; fi

if [ "$RELAY" = "true" ]; then enable_forwarding; fi

if ip link show dev "$WG_INTERFACE" > /dev/null 2>&1; then
  if [ "$config_changed" = "true" ]; then
    # Live: adds, updates and removes peers without touching the others.
    # Applied before it is saved, so a rejected config is retried next run.
    wg syncconf "$WG_INTERFACE" <(wg-quick strip "$new")
    install -m 600 "$new" "$conf"
    changed=true
  fi
  if [ "$(current_mtu)" != "$MTU" ]; then
    ip link set dev "$WG_INTERFACE" mtu "$MTU"
    changed=true
  fi
  # Read fully before matching: `grep -q` exiting early would make `ip` die
  # of SIGPIPE and, under pipefail, a present address look missing.
  addresses="$(ip -o addr show dev "$WG_INTERFACE")"
  if ! grep -qw "inet ${MESH_ADDRESS}" <<< "$addresses"; then
    ip address flush dev "$WG_INTERFACE"
    ip address add "$MESH_ADDRESS" dev "$WG_INTERFACE"
    changed=true
  fi
else
  install -m 600 "$new" "$conf"
  if ! bring_up; then
    rm -f "$conf"
    echo "${WG_INTERFACE}: failed to come up" >&2
    exit 1
  fi
  changed=true
fi

# New peers added live: start their handshakes too.
if [ "$changed" = "true" ]; then bash -c "${START_HANDSHAKES//%i/$WG_INTERFACE}"; fi

peers="$(wg show "$WG_INTERFACE" peers | grep -c . || true)"
if [ "$changed" = "true" ]; then state=changed; else state=unchanged; fi
echo "${WG_INTERFACE}: ${peers} peers, mtu ${MTU}, ${state}"
