"""Bootstrapping test hosts with the real program (compute, baseline, mesh).

The hosts are ``existing`` nodes of a spec; every ``command:remote:Command``
the program creates really runs over SSH on them, in the order Pulumi
resolves it.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pulumi

from components.spec import catalog_for, parse_cluster_spec
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.runtime import ProgramRun
from stacks.sovereign import build_cloud
from tests.stack_runner import run_components
from tests.testhosts.shell import netns_pids
from tests.testhosts.remote import run_remote_command, run_remote_delete

WG_PORT = 51820
POD_CIDR = "10.244.0.0/16"
# Ports a scan from outside must find open (sshd); cluster ports must not be.
EXPECTED_PUBLIC_TCP = {22}


def lab_spec(hosts, *, underlay_mtu: dict[str, int] | None = None,
             published_ports: dict[str, list[int]] | None = None,
             ssh_source_cidrs: list[str] | None = None,
             api_source_cidrs: list[str] | None = None,
             host_keys: dict[str, str] | None = None) -> dict:
    """The first host is the control plane, the others workers.

    ``published_ports``: per host name, ports open to the internet; a worker
    given some gets a node group of its own (the setting is per group).
    ``ssh_source_cidrs``: the spec's network.sshSourceCidrs (default: anyone).
    ``api_source_cidrs``: the spec's kubernetes.apiSourceCidrs (default: mesh only).
    ``host_keys``: per host name, the hostKey to pin instead of the host's own.
    """
    mtus = underlay_mtu or {}
    published = published_ports or {}

    def entry(h):
        pinned = (host_keys or {}).get(h.name, h.host_public_key)
        item = {"name": h.name, "address": h.public_ip, "behindNat": h.behind_nat, "hostKey": pinned}
        if h.name in mtus:
            item["underlayMtu"] = mtus[h.name]
        return item

    def group(roles, members):
        return {"provider": "existing", "roles": roles, "sshUser": members[0].ssh_user, "hosts": [entry(h) for h in members]}

    groups = {"cp": group(["control-plane"], hosts[:1])}
    if published.get(hosts[0].name):
        groups["cp"]["publishedPorts"] = list(published[hosts[0].name])
    workers = [h for h in hosts[1:] if not published.get(h.name)]
    if workers:
        groups["nodes"] = group(["worker"], workers)
    for h in hosts[1:]:
        if published.get(h.name):
            groups[f"pub-{h.name}"] = {**group(["worker"], [h]), "publishedPorts": list(published[h.name])}
    network = {"meshCidr": "10.42.0.0/16", "podCidr": POD_CIDR, "wireguardPort": WG_PORT}
    if ssh_source_cidrs is not None:
        network["sshSourceCidrs"] = list(ssh_source_cidrs)
    kubernetes = {} if api_source_cidrs is None else {"apiSourceCidrs": list(api_source_cidrs)}
    return {
        "name": "lab", "distribution": "k3s", "version": "1.31.4",
        "network": network,
        "kubernetes": kubernetes,
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


def all_pairs_unreachable(hosts, ips: dict[str, str]) -> list[tuple[str, str]]:
    """Every (from, to) pair whose mesh ping fails; [] is a full mesh."""
    return [(a.name, b.name) for a in hosts for b in hosts
            if a is not b and not ping_eventually(a, ips[b.name])]


@contextmanager
def continuous_ping(host, address: str, interval: float = 0.05):
    """Ping ``address`` from ``host`` for the duration of the block; yields a
    dict filled with ``sent`` and ``received`` when the block ends."""
    proc = host.popen(["ping", "-n", "-i", str(interval), address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result: dict[str, int] = {}
    try:
        time.sleep(1)  # first replies (and any handshake) before the change starts
        yield result
        time.sleep(1)  # packets in flight when the change ends
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    summary = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if summary is None:
        raise AssertionError(f"no ping summary in: {out[-500:]}")
    result.update(sent=int(summary[1]), received=int(summary[2]))


def open_tcp_ports(scanner, address: str, ports, *, source: str | None = None) -> set[int]:
    """A TCP connect scan of ``address`` from ``scanner`` (all ports in
    parallel), from the scanner's address ``source`` if given."""
    from_source = f"-s {source} " if source else ""
    probes = " ".join(f"(nc -z -w 1 {from_source}{address} {p} 2>/dev/null && echo {p}) &" for p in ports)
    out = scanner.run(["sh", "-c", f"{probes} wait"], check=False).stdout
    return {int(line) for line in out.split()}


@contextmanager
def listening(host, ports):
    """TCP listeners on ``ports`` inside ``host`` (as a web server or the API
    server would be), up before the block starts, stopped after it."""
    procs = [host.popen(["nc", "-l", "-k", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for port in ports]
    try:
        for port in ports:
            if not wait_listening(host, port):
                raise AssertionError(f"nothing listens on {host.name}:{port}")
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def wait_listening(host, port: int) -> bool:
    for _ in range(50):
        if host.run(f"ss -ltn | grep -q ':{port} '", check=False).returncode == 0:
            return True
        time.sleep(0.05)
    return False


def open_from_runner(address: str, port: int, timeout: float = 1) -> bool:
    """A TCP connect from the test runner (the root namespace, the operator)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def wireguard_state(host) -> dict:
    """What the idempotence test compares: keys, config, peers, process, handshakes."""
    dump = host.run("wg show wg0 dump").stdout.splitlines()
    interface, peers = dump[0].split("\t"), [line.split("\t") for line in dump[1:]]
    return {
        "public_key": interface[1],
        "config": host.run("sha256sum /etc/wireguard/wg0.conf /etc/wireguard/wg0.key").stdout,
        "peers": sorted((p[0], p[3]) for p in peers),  # key, allowed IPs
        "handshakes": {p[0]: int(p[4]) for p in peers},
        "wireguard_go_pid": wireguard_go_pids(host),
    }


def wireguard_go_pids(host) -> list[int]:
    """The wireguard-go processes of this host (pgrep would see every host's)."""
    return [pid for pid in netns_pids(host.netns) if _comm(pid) == "wireguard-go"]


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
