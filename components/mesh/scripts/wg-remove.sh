#!/usr/bin/env bash
# Take this node out of the mesh (the delete path of its mesh membership).
# Keeps the private key unless PURGE_KEY=true, so a node that comes back
# keeps its identity.
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
PURGE_KEY="${PURGE_KEY:-false}"
conf="/etc/wireguard/${WG_INTERFACE}.conf"

if [ -d /run/systemd/system ]; then
  systemctl disable --now "wg-quick@${WG_INTERFACE}" > /dev/null 2>&1 || true
fi
if ip link show dev "$WG_INTERFACE" > /dev/null 2>&1; then
  wg-quick down "$WG_INTERFACE" > /dev/null 2>&1 || ip link delete dev "$WG_INTERFACE"
fi
rm -f "$conf" /etc/sysctl.d/90-sovereign-mesh-relay.conf
if [ "$PURGE_KEY" = "true" ]; then rm -f "/etc/wireguard/${WG_INTERFACE}.key"; fi
echo "${WG_INTERFACE}: removed"
