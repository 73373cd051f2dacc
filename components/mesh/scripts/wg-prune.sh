#!/usr/bin/env bash
# Drop the peers of the mesh interface that are no longer in its saved
# configuration once they stop handshaking; exit when none is left.
#
# Started detached by wg-apply.sh when it keeps departing peers (nodes that
# left the spec but still run their delete scripts). A peer whose last
# handshake is older than DEPARTED_GRACE has taken its interface down (or
# died): it goes. After PRUNE_DEADLINE every remaining one goes.
#
# Parameters (environment):
#   WG_INTERFACE    interface name (wg0)
#   DEPARTED_GRACE  seconds without handshake after which a peer is gone (180)
#   PRUNE_INTERVAL  seconds between checks (30)
#   PRUNE_DEADLINE  seconds after which departing peers go regardless (3600)
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
DEPARTED_GRACE="${DEPARTED_GRACE:-180}"
PRUNE_INTERVAL="${PRUNE_INTERVAL:-30}"
PRUNE_DEADLINE="${PRUNE_DEADLINE:-3600}"
conf="/etc/wireguard/${WG_INTERFACE}.conf"
dynamic="/etc/wireguard/${WG_INTERFACE}.dynamic-peers"

deadline=$(($(date +%s) + PRUNE_DEADLINE))
while sleep "$PRUNE_INTERVAL"; do
  ip link show dev "$WG_INTERFACE" > /dev/null 2>&1 || exit 0
  now="$(date +%s)"
  left=0
  # `wg show dump`: the first line is the interface (its private key): skipped.
  while IFS=$'\t' read -r key _ _ _ handshake _; do
    if grep -qxF "PublicKey = ${key}" "$conf"; then continue; fi
    # An autoscaled node's peer (components/autoscaling: mesh-sync.sh owns it).
    if grep -q "^${key} " "$dynamic" 2> /dev/null; then continue; fi
    if [ $((now - handshake)) -ge "$DEPARTED_GRACE" ] || [ "$now" -ge "$deadline" ]; then
      wg set "$WG_INTERFACE" peer "$key" remove
      echo "${WG_INTERFACE}: departed peer ${key} removed"
    else
      left=1
    fi
  done < <(wg show "$WG_INTERFACE" dump | tail -n +2)
  if [ "$left" -eq 0 ]; then exit 0; fi
done
