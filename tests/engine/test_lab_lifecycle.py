"""The real Pulumi engine on test hosts: baseline, WireGuard mesh and a
dedicated etcd cluster built, changed, shrunk, grown and destroyed by
`pulumi up`/`preview`/`destroy` (CLI and Python language host built from Go
modules; pulumi-command and pulumi-tls stand-ins, see tests/engine/providers).

What mocks cannot show and these tests do: which steps the engine plans for
a change (update or replace), the order in which it runs deletes when a host
leaves the spec, that a second `up` has nothing to do, and what lands in
state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.engine.pulumi_cli import PulumiStack, operations
from tests.integration.etcd_lab import ETCD, etcd_pids, etcd_test_hosts, etcdctl, healthy_endpoints
from tests.integration.mesh_lab import all_pairs_unreachable, lab_spec
from tests.testhosts.lab import Lab

PROGRAM = Path(__file__).parent / "lab_program"
CLIENT_PORT = 2379
CHANGES = {"create", "update", "delete", "replace", "create-replacement", "delete-replaced", "read", "refresh"}


class LabStack:
    """The lab program's stack on ``lab``: its spec and etcd members."""

    def __init__(self, engine, plugins, lab: Lab, workdir: Path):
        self.lab = lab
        self.stack = PulumiStack(engine, PROGRAM, workdir, "lab", plugins=plugins)
        self.stack.set_config("sshPrivateKey", lab.hosts[0].ssh_private_key, secret=True)
        self.stack.set_config("workdir", str(lab.workdir))

    def configure(self, hosts, members, **spec_options) -> None:
        self.hosts, self.members = list(hosts), list(members)
        self.stack.set_config("cluster", json.dumps(lab_spec(self.hosts, **spec_options)))
        self.stack.set_config_list("etcdMembers", [h.name for h in self.members])

    def mesh_ips(self) -> dict[str, str]:
        return {n["name"]: n["mesh_ip"] for n in self.stack.outputs()["nodes"]}

    def endpoints(self, hosts=None) -> list[str]:
        ips = self.mesh_ips()
        return sorted(f"https://{ips[h.name]}:{CLIENT_PORT}" for h in (hosts or self.members))


def member_names(host, endpoints) -> list[str]:
    out = etcdctl(host, endpoints, "member list", check=True).stdout
    return sorted(line.split(",")[2].strip() for line in out.splitlines() if line.strip())


def changed(steps) -> list:
    return [s for s in steps if s.op in CHANGES]


@pytest.fixture(scope="module")
def lab():
    with etcd_test_hosts(3, "etcd", "etcdctl") as lab:
        yield lab


def test_up_converges_then_changes_update_in_place_hosts_leave_and_return_and_destroy_cleans(
        engine, plugins, lab, tmp_path):
    hosts = lab.hosts
    stack = LabStack(engine, plugins, lab, tmp_path)
    stack.configure(hosts, hosts)

    # 1. First `up`: mesh and etcd on three hosts.
    stack.stack.up()
    assert all_pairs_unreachable(hosts, stack.mesh_ips()) == []
    assert healthy_endpoints(hosts[0], stack.endpoints()) == stack.endpoints()
    assert member_names(hosts[0], stack.endpoints()) == sorted(h.name for h in hosts)

    # 2. Nothing changed: the engine plans nothing.
    assert changed(stack.stack.preview()) == []

    # 3. A firewall change (SSH sources) is an update of the node commands
    #    it touches, never a replacement (whose delete would tear them down).
    stack.configure(hosts, hosts, ssh_source_cidrs=[str(lab.subnet)])
    steps = changed(stack.stack.preview())
    assert steps, "an SSH source change must change something"
    assert {s.op for s in steps} == {"update"}, [(s.op, s.name) for s in steps]
    assert all(s.type == "command:remote:Command" for s in steps)
    stack.stack.up()
    assert changed(stack.stack.preview()) == []
    assert healthy_endpoints(hosts[0], stack.endpoints()) == stack.endpoints()

    # 4. A host leaves the spec: its etcd member goes before its mesh
    #    membership and baseline, the others stay healthy with 2 members.
    leaving, staying = hosts[2], hosts[:2]
    stack.configure(staying, staying, ssh_source_cidrs=[str(lab.subnet)])
    ops = operations(stack.stack.up())
    deletes = [name for op, name in ops if op == "delete"]
    assert f"{ETCD}-{leaving.name}-etcd" in deletes
    member_gone = deletes.index(f"{ETCD}-{leaving.name}-etcd")
    for name in deletes:
        if re.search(rf"-{leaving.name}-(wg-apply|baseline)", name):
            assert deletes.index(name) > member_gone, f"{name} deleted before the etcd member left"
    assert etcd_pids(leaving) == []
    assert healthy_endpoints(staying[0], stack.endpoints()) == stack.endpoints()
    assert member_names(staying[0], stack.endpoints()) == sorted(h.name for h in staying)

    # 5. It comes back: it joins again.
    stack.configure(hosts, hosts, ssh_source_cidrs=[str(lab.subnet)])
    stack.stack.up()
    assert healthy_endpoints(hosts[0], stack.endpoints()) == stack.endpoints()
    assert member_names(hosts[0], stack.endpoints()) == sorted(h.name for h in hosts)

    # 6. State holds no secret in plain text: not the SSH key, not the etcd
    #    keys, nothing the engine keeps as a secret.
    assert stack.stack.secrets_in_plain_state() == []
    assert lab.hosts[0].ssh_private_key.strip().splitlines()[1] not in json.dumps(stack.stack.export())

    # 7. `pulumi destroy` leaves the hosts as they were.
    stack.stack.destroy()
    for host in hosts:
        assert etcd_pids(host) == [], host.name
        assert host.run("test -e /etc/etcd", check=False).returncode != 0, host.name
        assert host.run("ip link show wg0", check=False).returncode != 0, host.name
        assert host.run("nft list table inet sovereign", check=False).returncode != 0, host.name
        for leftover in ("/etc/wireguard/wg0.conf", "/etc/sysctl.d/90-sovereign.conf",
                         "/etc/ssh/sshd_config.d/90-sovereign.conf", "/etc/nftables.d/sovereign.nft"):
            assert host.run(f"test -e {leftover}", check=False).returncode != 0, (host.name, leftover)
