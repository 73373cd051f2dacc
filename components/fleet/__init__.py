"""A fleet of clusters, hub and spokes (seed 002; ``fleet`` in the spec,
components/spec/fleet.py; docs/fleet.md).

- Open Cluster Management 1.3.1: on the hub the cluster-manager, the
  fleet's ManagedClusters (auto-accepted), a ManagedClusterSet per data
  region, Placements, and the ManifestWorks that deliver each exported
  service's ServiceExport to its spoke (``hub.py``, ``exports.py``); on each
  spoke the klusterlet (``spoke.py``).
- Submariner 0.24.1 with the libreswan cable driver: a broker per data
  domain on the hub, the operator on each spoke (``submariner.py``).
- Isolation: an isolated region is its own data domain (own broker), the
  spec refuses exports across it, and each node's firewall forwards only
  from its domain's clusters (``ports.py``, the node firewall).

The plan is pure data like every add-on (``plan.plan``); the platform
creates it. What crosses stacks (the hub's outputs, the spokes'
StackReference) is composed in ``stacks/fleet.py``. This package imports
nothing on import: the node layer reads ``ports`` without the platform.
"""
