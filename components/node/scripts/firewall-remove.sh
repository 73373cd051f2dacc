#!/usr/bin/env bash
# The delete path of the node firewall (pulumi destroy, or the node leaving
# the spec): our table and its boot-time include go; the CNI's, kube-proxy's
# and the machine's own tables stay as they are.
#
# Parameters (environment):
#   RENDER_DIR  where firewall.sh keeps the rules (/etc/nftables.d)
set -euo pipefail

RENDER_DIR="${RENDER_DIR:-/etc/nftables.d}"
rules_file="${RENDER_DIR}/sovereign.nft"

if nft list table inet sovereign > /dev/null 2>&1; then
  nft delete table inet sovereign
fi
rm -f "$rules_file"
if [ -f /etc/nftables.conf ]; then
  # Only our include line: the rest of the file is the machine's.
  sed -i "\\|^include \"${rules_file}\"\$|d" /etc/nftables.conf
fi
echo "firewall: removed"
