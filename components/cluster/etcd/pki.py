"""The etcd PKI, made by Pulumi with pulumi_tls: a CA, per member a server
and a peer certificate, and client certificates.

Every private key (and anything derived from one) is a Pulumi secret; the
certificates themselves are public.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from components.compute.node import Node

KEY_ALGORITHM = "ECDSA"
KEY_CURVE = "P256"
CA_VALIDITY_HOURS = 10 * 365 * 24
CERT_VALIDITY_HOURS = 5 * 365 * 24
# Certificates are re-issued by the next `pulumi up` within this window.
EARLY_RENEWAL_HOURS = 90 * 24
ORGANIZATION = "sovereign-cloud"
# What every leaf uses its key for; the extended usages differ per role.
LEAF_KEY_USAGES = ["digital_signature", "key_encipherment"]
# etcd's server certificate also authenticates the member when it calls
# its own client port (gRPC gateway) and the peer certificate is used in
# both directions between members: both need server and client auth.
SERVER_USAGES = [*LEAF_KEY_USAGES, "server_auth", "client_auth"]
PEER_USAGES = [*LEAF_KEY_USAGES, "server_auth", "client_auth"]
CLIENT_USAGES = [*LEAF_KEY_USAGES, "client_auth"]
CLIENTS = {
    "apiserver": "kube-apiserver-etcd-client",
    "healthcheck": "etcd-healthcheck-client",
}


@dataclass(frozen=True)
class KeyPair:
    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]
    """Always a Pulumi secret."""


def member_sans(node: Node) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of a member's server and peer certificates:
    its mesh IP (where it listens), its name and loopback (local etcdctl)."""
    return [node.name, "localhost"], [node.mesh_ip, "127.0.0.1"]


class EtcdPki:
    """Creates the PKI resources as children of ``parent``."""

    ca_cert_pem: pulumi.Output[str]
    servers: dict[str, KeyPair]
    peers: dict[str, KeyPair]
    clients: dict[str, KeyPair]

    def __init__(self, name: str, nodes: list[Node], parent: pulumi.Resource):
        self._name = name
        self._opts = pulumi.ResourceOptions(parent=parent)
        self.ca_key = tls.PrivateKey(f"{name}-ca-key", algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=self._opts)
        self.ca = tls.SelfSignedCert(
            f"{name}-ca",
            private_key_pem=self.ca_key.private_key_pem,
            is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(common_name="etcd-ca", organization=ORGANIZATION),
            validity_period_hours=CA_VALIDITY_HOURS,
            early_renewal_hours=EARLY_RENEWAL_HOURS,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
            opts=self._opts,
        )
        self.ca_cert_pem = self.ca.cert_pem
        self.servers, self.peers, self.clients = {}, {}, {}
        for node in nodes:
            dns, ips = member_sans(node)
            self.servers[node.name] = self._leaf(f"{node.name}-server", node.name, SERVER_USAGES, dns, ips)
            self.peers[node.name] = self._leaf(f"{node.name}-peer", node.name, PEER_USAGES, dns, ips)
        for role, common_name in CLIENTS.items():
            self.clients[role] = self._leaf(f"client-{role}", common_name, CLIENT_USAGES, [], [])

    def _leaf(self, suffix: str, common_name: str, usages: list[str], dns: list[str], ips: list[str]) -> KeyPair:
        base = f"{self._name}-{suffix}"
        key = tls.PrivateKey(f"{base}-key", algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=self._opts)
        request = tls.CertRequest(
            f"{base}-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=common_name, organization=ORGANIZATION),
            dns_names=dns or None,
            ip_addresses=ips or None,
            opts=self._opts,
        )
        cert = tls.LocallySignedCert(
            f"{base}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_cert_pem=self.ca.cert_pem,
            ca_private_key_pem=self.ca_key.private_key_pem,
            validity_period_hours=CERT_VALIDITY_HOURS,
            early_renewal_hours=EARLY_RENEWAL_HOURS,
            allowed_uses=usages,
            opts=self._opts,
        )
        # The provider marks private_key_pem secret; say so explicitly so a
        # future provider or mock cannot make it plain.
        return KeyPair(cert_pem=cert.cert_pem, key_pem=pulumi.Output.secret(key.private_key_pem))
