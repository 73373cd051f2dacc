"""Rolling upgrades of K3s and kubeadm clusters: one node at a time,
control planes first, drained and uncordoned (see README.md)."""

from .chain import NodeUpgrade, rolling_upgrade, upgrade_order
from .versions import Version, change_problem, version_change_issues

__all__ = ["NodeUpgrade", "Version", "change_problem", "rolling_upgrade", "upgrade_order", "version_change_issues"]
