"""The WireGuard full mesh between all nodes of a stack."""
