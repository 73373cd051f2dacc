"""Lab program for the real engine: the same layers the mocks-driven etcd lab
builds (tests/integration/etcd_lab.py), from stack config."""

import json
import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from tests.integration.etcd_lab import build_lab_etcd  # noqa: E402

config = pulumi.Config()
build_lab_etcd(json.loads(config.require("cluster")), config.require_secret("sshPrivateKey"),
               config.require_object("etcdMembers"), config.require("workdir"))
