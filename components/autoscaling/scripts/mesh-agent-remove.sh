#!/usr/bin/env bash
# Remove the mesh registry agent (the delete path of mesh-agent-install.sh)
# and the peers it added: the node no longer follows autoscaled nodes.
#
# Parameters (environment):
#   WG_INTERFACE  wg0
#   LIB_DIR       /usr/local/lib/sovereign/mesh
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
LIB_DIR="${LIB_DIR:-/usr/local/lib/sovereign/mesh}"
dynamic="/etc/wireguard/${WG_INTERFACE}.dynamic-peers"

if [ -d /run/systemd/system ]; then
  systemctl disable --now --quiet sovereign-mesh-sync.timer sovereign-mesh-register.timer 2> /dev/null || true
  rm -f /etc/systemd/system/sovereign-mesh-{sync,register}.{service,timer}
  systemctl daemon-reload
fi
pidfile=/run/sovereign-mesh-agent.pid
if [ -f "$pidfile" ]; then
  kill "$(cat "$pidfile")" 2> /dev/null || true
  rm -f "$pidfile"
fi
removed=0
if [ -f "$dynamic" ] && ip link show dev "$WG_INTERFACE" > /dev/null 2>&1; then
  while read -r key _; do
    [ -n "$key" ] || continue
    wg set "$WG_INTERFACE" peer "$key" remove
    removed=$((removed + 1))
  done < "$dynamic"
fi
rm -f "$dynamic" "${LIB_DIR}/mesh-sync.sh" "${LIB_DIR}/mesh-register.sh" "${LIB_DIR}/mesh-leave.sh"
echo "mesh agent removed (${removed} dynamic peers dropped)"
