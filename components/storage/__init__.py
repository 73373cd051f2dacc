"""Replicated storage: Rook-Ceph laid out on the cluster's topology.

- ``layout.py``: which nodes hold OSDs and monitors, the failure domain, stretch mode (pure, read by spec validation);
- ``memory.py``: what the Ceph daemons need on each node, and the checks that keep chart defaults off small nodes;
- ``values.py``: typed values of the rook-ceph and rook-ceph-cluster charts, and the Ceph objects they render;
- ``plan.py``: the add-on plan (releases, namespace, workloads for the per-node sum);
- ``rook_ceph.py``: the ``RookCeph`` ComponentResource (udev rule on USB-stick nodes, the two releases);
- ``scripts/``: node scripts.

Nothing is imported here, so spec validation reads ``layout`` without the Pulumi SDK.
"""
