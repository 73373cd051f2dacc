"""Per-node OS baseline and nftables firewall."""
