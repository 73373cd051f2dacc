"""Bootstrapping test hosts with the real program (compute, baseline, mesh).

The hosts are ``existing`` nodes of a spec; every ``command:remote:Command``
the program creates really runs over SSH on them, in the order Pulumi
resolves it.
"""

from __future__ import annotations

import pulumi

from components.spec import catalog_for, parse_cluster_spec
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.runtime import ProgramRun
from stacks.sovereign import build_cloud
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command, run_remote_delete

WG_PORT = 51820
# Ports a scan from outside must find open (sshd); cluster ports must not be.
EXPECTED_PUBLIC_TCP = {22}


def lab_spec(hosts, *, underlay_mtu: dict[str, int] | None = None) -> dict:
    """The first host is the control plane, the others workers."""
    mtus = underlay_mtu or {}

    def entry(h):
        item = {"name": h.name, "address": h.public_ip, "behindNat": h.behind_nat}
        if h.name in mtus:
            item["underlayMtu"] = mtus[h.name]
        return item

    groups = {"cp": {"provider": "existing", "roles": ["control-plane"], "sshUser": "root", "hosts": [entry(hosts[0])]}}
    if len(hosts) > 1:
        groups["nodes"] = {"provider": "existing", "roles": ["worker"], "sshUser": "root", "hosts": [entry(h) for h in hosts[1:]]}
    return {
        "name": "lab", "distribution": "k3s", "version": "1.31.4",
        "network": {"meshCidr": "10.42.0.0/16", "wireguardPort": WG_PORT},
        "ssh": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC lab"},
        "nodeGroups": groups,
    }


def bootstrap(hosts, **spec_options) -> ProgramRun:
    """``pulumi up`` of the infrastructure layers against the test hosts."""
    spec_data = lab_spec(hosts, **spec_options)
    key = hosts[0].ssh_private_key

    def program() -> None:
        spec = parse_cluster_spec(spec_data, catalog=catalog_for(spec_data))
        cloud = build_cloud(spec, ssh_private_key=pulumi.Output.secret(key), catalog=catalog_for(spec_data))
        pulumi.export("nodes", cloud.node_table())
        pulumi.export("mtu", cloud.mesh.mtu)
        pulumi.export("keys", cloud.mesh.public_keys)

    return run_components(program, stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


def remove_from_mesh(previous: ProgramRun, node: str) -> None:
    """What the engine does for a node dropped from the spec: run the delete
    script of its mesh membership with the inputs it was created with."""
    resource = previous.named(f"lab-mesh-{node}-wg-apply")
    run_remote_delete(resource.name, resource.inputs)


def mesh_ips(run: ProgramRun) -> dict[str, str]:
    return {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}


def ping(host, address: str, *, count: int = 1, size: int | None = None, dont_fragment: bool = False, wait: float = 1) -> bool:
    opts = f"-c {count} -W {wait}"
    if size is not None:
        opts += f" -s {size}"
    if dont_fragment:
        opts += " -M do"
    return host.run(f"ping -q {opts} {address}", check=False).returncode == 0


def ping_eventually(host, address: str, attempts: int = 20) -> bool:
    """A first packet may wait for the handshake: retry rather than fail."""
    return any(ping(host, address, wait=0.5) for _ in range(attempts))
