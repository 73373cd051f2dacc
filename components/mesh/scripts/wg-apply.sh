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
#   PRUNE_SCRIPT  the rendered wg-prune.sh (started detached, see below)
#   DEPARTED_GRACE  seconds since its last handshake under which a peer that
#                 left PEERS still counts as alive (180: keepalive 25 s and
#                 the 2-minute rekey keep a live peer's handshake younger)
#
# A peer that left PEERS but is alive is kept, live only (not saved), while
# it handshakes: Pulumi updates the nodes that stay before it deletes the
# resources of a node that leaves, and those deletes (etcd member removal,
# drain) run on the leaving node and must still reach the cluster. Once its
# own mesh delete takes its interface down, wg-prune.sh (detached) drops it
# within DEPARTED_GRACE plus 30 s (before the 5-minute handshake alert).
#
# Peers of autoscaled nodes (components/autoscaling: mesh-sync.sh) are listed
# in /etc/wireguard/<if>.dynamic-peers, in the PEERS format: they stay in the
# live interface (never saved to the config) when this script changes it.
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
PRUNE_SCRIPT="${PRUNE_SCRIPT:?PRUNE_SCRIPT is required}"
DEPARTED_GRACE="${DEPARTED_GRACE:-180}"

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
  render_peers "$PEERS"
}

# [Peer] sections of PEERS-format lines ($1).
render_peers() {
  local key endpoint allowed keepalive
  while read -r key endpoint allowed keepalive; do
    [ -n "$key" ] || continue
    printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$key" "$allowed"
    if [ "$endpoint" != "-" ]; then printf 'Endpoint = %s\n' "$endpoint"; fi
    if [ "$keepalive" != "0" ]; then printf 'PersistentKeepalive = %s\n' "$keepalive"; fi
  done <<< "$1"
}

# Peers in the live interface but not in PEERS whose last handshake is
# within DEPARTED_GRACE, as [Peer] sections. `wg show dump`: the first line
# is the interface itself (its private key): skipped, never printed.
# Addresses a peer in PEERS routes stay its own: a node replaced under the
# same name (new key, same mesh IP) must not lose them to its predecessor.
departing_peers() {
  local now key endpoint allowed handshake keepalive ip kept desired_ips
  now="$(date +%s)"
  desired_ips="$(awk 'NF { print $3 }' <<< "$PEERS" | tr ',' '\n')"
  wg show "$WG_INTERFACE" dump | tail -n +2 |
    while IFS=$'\t' read -r key _ endpoint allowed handshake _ _ keepalive; do
      if grep -qxF "$key" <<< "$desired_keys"; then continue; fi
      if [ "$handshake" -eq 0 ] || [ $((now - handshake)) -ge "$DEPARTED_GRACE" ]; then continue; fi
      kept=""
      for ip in ${allowed//,/ }; do
        if [ "$ip" != "(none)" ] && ! grep -qxF "$ip" <<< "$desired_ips"; then kept="${kept:+${kept},}${ip}"; fi
      done
      if [ -z "$kept" ]; then continue; fi
      printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$key" "$kept"
      if [ "$endpoint" != "(none)" ]; then printf 'Endpoint = %s\n' "$endpoint"; fi
      if [ "$keepalive" != "off" ]; then printf 'PersistentKeepalive = %s\n' "$keepalive"; fi
    done
}

# wg-prune.sh (PRUNE_SCRIPT), detached: once per interface.
start_pruner() {
  local unit="sovereign-${WG_INTERFACE}-prune" pidfile="/run/sovereign-${WG_INTERFACE}-prune.pid"
  local env=(WG_INTERFACE="$WG_INTERFACE" DEPARTED_GRACE="$DEPARTED_GRACE")
  if has_systemd; then
    systemctl is-active --quiet "$unit" ||
      systemd-run --quiet --collect --unit "$unit" env "${env[@]}" bash -c "$PRUNE_SCRIPT"
    return 0
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then return 0; fi
  env "${env[@]}" setsid bash -c "$PRUNE_SCRIPT" < /dev/null > /dev/null 2>&1 &
  echo $! > "$pidfile"
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

dynamic_peers=""
dynamic_file="/etc/wireguard/${WG_INTERFACE}.dynamic-peers"
if [ -f "$dynamic_file" ]; then
  # Keys Pulumi lists itself stay Pulumi's.
  dynamic_peers="$(awk 'NR == FNR { if (NF) static[$1] = 1; next } NF && !($1 in static)' <(printf '%s\n' "$PEERS") "$dynamic_file")"
fi
desired_keys="$(awk 'NF { print $1 }' <<< "$PEERS"$'\n'"$dynamic_peers")"
departing=0
if ip link show dev "$WG_INTERFACE" > /dev/null 2>&1; then
  if [ "$config_changed" = "true" ]; then
    # Live: adds, updates and removes peers without touching the others,
    # keeping departing ones (see the header). Applied before it is saved,
    # so a rejected config is retried next run.
    live="${tmpdir}/live.conf"
    kept_peers="$(departing_peers)"
    departing="$(grep -c '^\[Peer\]' <<< "$kept_peers" || true)"
    printf '%s\n%s\n%s\n' "$(cat "$new")" "$(render_peers "$dynamic_peers")" "$kept_peers" > "$live"
    wg syncconf "$WG_INTERFACE" <(wg-quick strip "$live")
    install -m 600 "$new" "$conf"
    changed=true
    if [ "$departing" -gt 0 ]; then start_pruner; fi
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
if [ "$departing" -gt 0 ]; then state="${state}, ${departing} departing kept while alive"; fi
echo "${WG_INTERFACE}: ${peers} peers, mtu ${MTU}, ${state}"
