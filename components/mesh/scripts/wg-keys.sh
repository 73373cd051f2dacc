#!/usr/bin/env bash
# Print this node's WireGuard public key, creating the private key on the
# node the first time. The private key is never printed: it never leaves
# the node. stdout is exactly the public key (the Pulumi output).
set -euo pipefail

WG_INTERFACE="${WG_INTERFACE:-wg0}"
key_file="/etc/wireguard/${WG_INTERFACE}.key"

umask 077
mkdir -p /etc/wireguard
if [ ! -s "$key_file" ]; then
  # Write then rename, so a crash never leaves a truncated key behind.
  wg genkey > "${key_file}.new"
  mv "${key_file}.new" "$key_file"
fi
wg pubkey < "$key_file"
