"""ExternalEtcd on test hosts: the real program (compute, baseline, mesh)
plus the etcd component, every remote command run over SSH."""

from __future__ import annotations

import pulumi

from components.cluster.etcd import ExternalEtcd
from components.spec import catalog_for, parse_cluster_spec
from components.spec.kubernetes import EtcdSnapshotSpec
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.runtime import ProgramRun
from stacks.sovereign import build_cloud
from tests.integration.mesh_lab import lab_spec
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command, run_remote_delete
from tests.testhosts.shell import netns_pids

ETCD = "lab-etcd"
PKI = "/etc/etcd/pki"


def bootstrap_etcd(lab, members, *, snapshots: EtcdSnapshotSpec | None = None) -> ProgramRun:
    """``pulumi up``: the mesh on every lab host, etcd on ``members``.

    Test hosts share /var and /tmp: data and snapshots live in per-member
    directories under the lab's work directory (removed with the lab).
    """
    spec_data = lab_spec(lab.hosts)
    key = lab.hosts[0].ssh_private_key
    wanted = [h.name for h in members]

    def program() -> None:
        spec = parse_cluster_spec(spec_data, catalog=catalog_for(spec_data))
        cloud = build_cloud(spec, ssh_private_key=pulumi.Output.secret(key), catalog=catalog_for(spec_data))
        by_name = {n.name: n for n in cloud.nodes}
        nodes = [by_name[name] for name in wanted]
        etcd = ExternalEtcd(ETCD, {
            "nodes": nodes,
            "after": {n.name: [cloud.mesh.ready[n.name]] for n in nodes},
            "data_dir": f"{lab.workdir}/etcd-data-{{node}}",
            "snapshot_dir": f"{lab.workdir}/etcd-snapshots-{{node}}",
            "snapshots": snapshots,
        })
        pulumi.export("nodes", cloud.node_table())
        pulumi.export("endpoints", etcd.endpoints)
        pulumi.export("clientKey", etcd.client_key_pem)
        pulumi.export("clientCert", etcd.client_cert_pem)
        pulumi.export("ca", etcd.ca_cert_pem)

    return run_components(program, stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


def member_output(run: ProgramRun, host) -> str:
    return run.named(f"{ETCD}-{host.name}-etcd").outputs.get("stdout", "")


def remove_member(run: ProgramRun, host) -> dict | None:
    """What the engine runs when the member leaves the spec: its delete script."""
    resource = run.named(f"{ETCD}-{host.name}-etcd")
    return run_remote_delete(resource.name, resource.inputs)


def etcdctl(host, endpoints, *args: str, cert: bool = True, check: bool = False, timeout: float = 30):
    """etcdctl on ``host`` with the health-check client certificate (or none)."""
    creds = f"--cacert {PKI}/ca.crt" + (f" --cert {PKI}/healthcheck-client.crt --key {PKI}/healthcheck-client.key" if cert else "")
    eps = ",".join(endpoints) if isinstance(endpoints, (list, tuple)) else endpoints
    cmd = f"ETCDCTL_API=3 etcdctl {creds} --dial-timeout=2s --command-timeout=5s --endpoints {eps} {' '.join(args)}"
    return host.run(cmd, check=check, timeout=timeout)


def etcd_pids(host) -> list[int]:
    """etcd processes of this host (pgrep would see every host's)."""
    pids = []
    for pid in netns_pids(host.netns):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "etcd":
                    pids.append(pid)
        except OSError:
            pass
    return pids


def kill_etcd(host) -> None:
    for pid in etcd_pids(host):
        host.run(f"kill -9 {pid}", check=False)


def healthy_endpoints(host, endpoints) -> list[str]:
    out = etcdctl(host, endpoints, "endpoint health", timeout=60)
    return sorted(line.split(" is healthy")[0] for line in (out.stdout + out.stderr).splitlines() if " is healthy" in line)
