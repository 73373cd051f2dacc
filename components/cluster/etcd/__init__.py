"""Dedicated etcd members for kubeadm: PKI, membership, snapshots.

- ``pki.EtcdPki``: CA, per-member server and peer certificates, client
  certificates (pulumi_tls; private keys are secrets).
- ``cluster.ExternalEtcd``: the members (scripts/etcd-member.sh), their
  safe removal (scripts/etcd-member-remove.sh), a health gate and
  scheduled snapshots; the restore procedure is in README.md.
- ``snapshots.etcd_snapshot_commands``: the per-node snapshot schedules,
  shared with kubeadm's stacked etcd (components/cluster/kubeadm).
"""

from .cluster import ExternalEtcd, ExternalEtcdArgs
from .pki import EtcdPki

__all__ = ["EtcdPki", "ExternalEtcd", "ExternalEtcdArgs"]
