"""pytest fixtures giving real test hosts; a skip is a failure under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

from .lab import Lab

REQUIRED_TOOLS = ("ip", "nsenter", "unshare", "wg", "wg-quick", "wireguard-go", "nft", "tcpdump", "ssh-keygen", "/usr/sbin/sshd",
                  "sudo", "useradd")


def missing_requirements() -> list[str]:
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None and not os.path.exists(t)]
    if os.geteuid() != 0:
        missing.append("root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun")
    return missing


def require_test_hosts() -> None:
    missing = missing_requirements()
    if missing:
        message = f"test hosts need: {', '.join(missing)} (scripts/test installs the packages; run as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def lab_factory():
    """``lab_factory(n, nat_hosts=0)`` -> a started Lab, torn down after the test."""
    require_test_hosts()
    labs: list[Lab] = []

    def make(n_hosts: int, nat_hosts: int = 0) -> Lab:
        lab = Lab(n_hosts, nat_hosts).__enter__()
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.teardown()
