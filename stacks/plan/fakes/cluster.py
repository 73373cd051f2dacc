"""Fake answers of the Kubernetes cluster layer (K3s, kubeadm, etcd PKI)."""

from __future__ import annotations

import base64
import hashlib

from .registry import FAKE_STDOUT, RESOURCE_FAKES

# Not a certificate: plainly marked fake data in the places a kubeconfig
# carries PEM, so nobody mistakes a plan's output for credentials.
_FAKE_PEM = "-----BEGIN CERTIFICATE-----\nRkFLRSBQTEFOIERBVEEsIE5PVCBBIENFUlRJRklDQVRF\n-----END CERTIFICATE-----\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def fake_kubeconfig(resource_name: str) -> str:
    """A plausible admin kubeconfig as K3s/kubeadm write it on the first
    control plane (server on the node itself; the component rewrites it)."""
    key = hashlib.sha256(resource_name.encode()).hexdigest()
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- cluster:\n"
        f"    certificate-authority-data: {_b64(_FAKE_PEM)}\n"
        "    server: https://127.0.0.1:6443\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "preferences: {}\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        f"    client-certificate-data: {_b64(_FAKE_PEM)}\n"
        f"    client-key-data: {_b64('FAKE PLAN KEY ' + key)}\n"
    )


def fake_ca_cert_hash(resource_name: str) -> str:
    """What kubeadm-init.sh prints: the discovery hash of the cluster CA."""
    return f"sha256:{hashlib.sha256(('ca:' + resource_name).encode()).hexdigest()}\n"


def fake_join_credentials(resource_name: str) -> str:
    """What kubeadm-join-credentials.sh prints (a new time at every run: the
    node's member command re-runs on it)."""
    node = resource_name.rsplit("-join-credentials", 1)[0]
    return (f"{node}: pending since plan time; "
            "join credentials for 1 pending join(s): token kept, certificates uploaded=false\n")


FAKE_STDOUT["-kubeconfig"] = fake_kubeconfig
FAKE_STDOUT["-kubeadm-init"] = fake_ca_cert_hash
FAKE_STDOUT["-join-credentials"] = fake_join_credentials


def _random_password(cloud, name, inputs, raw):
    """A deterministic password honouring length and character classes
    (the real provider draws from crypto/rand); plain fake data."""
    length = int(inputs.get("length", 16))
    alphabet = ""
    if inputs.get("lower", True):
        alphabet += "abcdefghijklmnopqrstuvwxyz"
    if inputs.get("upper", True):
        alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if inputs.get("numeric", True):
        alphabet += "0123456789"
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    digest = b""
    counter = 0
    while len(digest) < length:
        digest += hashlib.sha256(f"{name}/{counter}".encode()).digest()
        counter += 1
    result = "".join(alphabet[b % len(alphabet)] for b in digest[:length])
    return f"{name}-id", {**raw, "result": result, "bcryptHash": "$2a$10$FAKEPLANHASH"}


RESOURCE_FAKES["random:index/randomPassword:RandomPassword"] = _random_password
