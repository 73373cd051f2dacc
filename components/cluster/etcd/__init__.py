"""Dedicated etcd members for kubeadm: PKI, membership, snapshots.

- ``pki.EtcdPki``: CA, per-member server and peer certificates, client
  certificates (pulumi_tls; private keys are secrets).
- ``cluster.ExternalEtcd``: the members (scripts/etcd-member.sh), their
  safe removal (scripts/etcd-member-remove.sh), a health gate and
  scheduled snapshots; the restore procedure is in README.md.
"""

from .cluster import ExternalEtcd, ExternalEtcdArgs
from .pki import EtcdPki

__all__ = ["EtcdPki", "ExternalEtcd", "ExternalEtcdArgs"]
