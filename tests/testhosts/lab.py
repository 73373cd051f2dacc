"""A lab of test hosts: a hub namespace with a bridge, hosts on it, an
outside host for scans, hosts behind NAT routers, and a clean teardown."""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .host import TestHost
from .shell import kill_netns_processes, sh

# Beyond ~32 hosts on one bridge the machine-wide ARP table limit drops
# packets (notes/test-hosts.md): raise it while such a lab runs.
ARP_LIMITS = {"net.ipv4.neigh.default.gc_thresh2": "4096", "net.ipv4.neigh.default.gc_thresh3": "8192"}
OUTSIDE_OCTET = 250
# The NAT router: masquerade the LAN; nothing from the bridge may open a
# connection into it, except the test runner (the operator on the LAN).
NAT_RULES = """
table ip nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat;
    oifname "eth0" ip saddr {lan} masquerade
  }}
}}
table ip filter {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "eth0" ip saddr != {operator} ct state new drop
  }}
}}
"""
ROOT_OCTET = 254


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 172.31.200-249.0 not used in the root namespace (labs may run side by side)."""
    used = sh("ip", "-4", "route").stdout + sh("ip", "-4", "addr").stdout
    for third in range(200, 250):
        net = ipaddress.IPv4Network(f"172.31.{third}.0/24")
        if f"172.31.{third}." not in used:
            return net
    raise RuntimeError("no free 172.31.200-249.0/24 subnet for a lab")


@dataclass
class Pod:
    """A pod on a test host: its own network namespace, plugged into the host
    the way a CNI does it (a veth named like the CNI's, e.g. ``cali*``)."""

    netns: str
    ip: str
    host_ifname: str

    def run(self, cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.netns, "sh", "-c", cmd, check=check)


@dataclass
class Capture:
    lines: list[str] = field(default_factory=list)
    """One decoded line a packet (``tcpdump -nn``)."""
    raw: bytes = b""
    """The pcap file: every captured frame byte for byte."""


class Lab:
    """``with Lab(5) as lab: lab.hosts[0].run("ip addr")``"""

    def __init__(self, n_hosts: int, nat_hosts: int = 0):
        self.n_hosts, self.n_nat = n_hosts, nat_hosts
        self.prefix = "sc" + secrets.token_hex(3)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.hosts: list[TestHost] = []
        self.outside: TestHost | None = None
        self._netns: list[str] = []
        self._root_links: list[str] = []
        self._routes: list[str] = []
        self._sysctl_restore: dict[str, str] = {}
        self._next_octet = 1
        self._next_nat = 1
        self._ns_mounted = False

    # -- setup ------------------------------------------------------------------
    def __enter__(self) -> Lab:
        try:
            self._setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.teardown()

    def _setup(self) -> None:
        self.subnet = free_subnet()
        # unshare(1) needs the namespace handle files on a private mount.
        self.ns_dir = self.workdir / "ns"
        self.ns_dir.mkdir()
        sh("mount", "--bind", str(self.ns_dir), str(self.ns_dir))
        sh("mount", "--make-private", str(self.ns_dir))
        self._ns_mounted = True
        if self.n_hosts + self.n_nat > 30:
            self._raise_arp_limits()
        self._keys()
        self.hub = self._add_netns("hub")
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")
        uplink = f"{self.prefix}-up"
        sh("ip", "link", "add", uplink, "type", "veth", "peer", "name", "up0", "netns", self.hub)
        self._root_links.append(uplink)
        sh("ip", "-n", self.hub, "link", "set", "up0", "master", "br0", "up")
        sh("ip", "addr", "add", f"{self.address(ROOT_OCTET)}/24", "dev", uplink)
        sh("ip", "link", "set", uplink, "up")
        for _ in range(self.n_hosts):
            self.add_host()
        for _ in range(self.n_nat):
            self.add_host(nat=True)
        self.outside = self._make_host("outside", OUTSIDE_OCTET)

    def address(self, octet: int) -> str:
        return str(self.subnet.network_address + octet)

    def _keys(self) -> None:
        self.client_key = self.workdir / "client_key"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-m", "PEM", "-f", str(self.client_key))
        self.authorized_keys = self.workdir / "authorized_keys"
        shutil.copy(f"{self.client_key}.pub", self.authorized_keys)
        # sshd reads authorized keys as the logging-in user (a non-root one).
        self.workdir.chmod(0o711)
        self.authorized_keys.chmod(0o644)

    def _raise_arp_limits(self) -> None:
        for key, value in ARP_LIMITS.items():
            self._sysctl_restore[key] = sh("sysctl", "-n", key).stdout.strip()
            sh("sysctl", "-q", "-w", f"{key}={value}")

    def _add_netns(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        sh("ip", "netns", "add", name)
        self._netns.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def _plug(self, netns: str, hub_end: str, ifname: str = "eth0") -> None:
        """A veth from the bridge into ``netns``, named ``ifname`` there."""
        sh("ip", "-n", self.hub, "link", "add", hub_end, "type", "veth", "peer", "name", ifname, "netns", netns)
        sh("ip", "-n", self.hub, "link", "set", hub_end, "master", "br0", "up")

    def _make_host(self, label: str, octet: int) -> TestHost:
        netns = self._add_netns(label)
        hub_end = f"v{label}"[:15]
        self._plug(netns, hub_end)
        host = TestHost(name=label, netns=netns, public_ip=self.address(octet), workdir=self.workdir / label,
                        ssh_private_key_path=self.client_key, hub_veth=hub_end, ns_dir=self.ns_dir)
        host.create_filesystem()
        host.run(f"ip addr add {host.public_ip}/24 dev eth0 && ip link set eth0 up")
        host.start_sshd(self.authorized_keys)
        return host

    def add_host(self, nat: bool = False) -> TestHost:
        """A new machine on the bridge (or behind its own NAT router)."""
        if nat:
            host = self._make_nat_host()
        else:
            octet = self._next_octet
            self._next_octet += 1
            host = self._make_host(f"h{octet}", octet)
        self.hosts.append(host)
        return host

    def _make_nat_host(self) -> TestHost:
        """An on-prem box: a private LAN behind a masquerading router, no
        inbound reachability from the bridge. The test runner (root
        namespace) reaches it through a route, like an operator on the LAN."""
        i = self._next_nat
        self._next_nat += 1
        router = self._add_netns(f"r{i}")
        router_ip = self.address(200 + i)
        self._plug(router, f"vr{i}")
        lan = ipaddress.IPv4Network(f"10.250.{i}.0/24")
        gw, box_ip = str(lan.network_address + 1), str(lan.network_address + 2)
        label = f"nat{i}"
        netns = self._add_netns(label)
        sh("ip", "-n", router, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", netns)
        for cmd in (
            f"ip addr add {router_ip}/24 dev eth0", "ip link set eth0 up",
            f"ip addr add {gw}/24 dev lan0", "ip link set lan0 up",
            "sysctl -q -w net.ipv4.ip_forward=1",
        ):
            sh("ip", "netns", "exec", router, "sh", "-c", cmd)
        sh("ip", "netns", "exec", router, "nft", "-f", "-", input=NAT_RULES.format(lan=lan, operator=self.address(ROOT_OCTET)))
        host = TestHost(name=label, netns=netns, public_ip=box_ip, workdir=self.workdir / label,
                        ssh_private_key_path=self.client_key, behind_nat=True, hub_veth=f"vr{i}", ns_dir=self.ns_dir)
        host.create_filesystem()
        host.run(f"ip addr add {box_ip}/24 dev eth0 && ip link set eth0 up && ip route add default via {gw}")
        sh("ip", "route", "add", str(lan), "via", router_ip)
        self._routes.append(str(lan))
        host.start_sshd(self.authorized_keys)
        return host

    def add_pod(self, host: TestHost, ip: str, host_ifname: str = "cali0test") -> Pod:
        """A pod with address ``ip`` behind ``host_ifname`` on ``host``, wired
        as CNIs do: a /32 route to it on the host, a link-local gateway."""
        netns = self._add_netns(f"pod{len(self._netns)}")
        sh("ip", "-n", host.netns, "link", "add", host_ifname, "type", "veth", "peer", "name", "eth0", "netns", netns)
        host.run(f"ip addr add 169.254.1.1/32 dev {host_ifname} && ip link set {host_ifname} up"
                 f" && ip route add {ip}/32 dev {host_ifname}")
        pod = Pod(netns=netns, ip=ip, host_ifname=host_ifname)
        pod.run(f"ip addr add {ip}/32 dev eth0 && ip link set eth0 up"
                " && ip route add 169.254.1.1 dev eth0 scope link && ip route add default via 169.254.1.1 dev eth0")
        return pod

    # -- faults and observation ---------------------------------------------------
    def kill(self, host: TestHost) -> None:
        host.kill()

    def start(self, host: TestHost) -> None:
        host.start(self.authorized_keys)

    def remove_host(self, host: TestHost) -> None:
        host.stop()
        self.hosts.remove(host)

    def add_latency(self, host: TestHost, delay_ms: float) -> None:
        host.run(f"tc qdisc replace dev eth0 root netem delay {delay_ms}ms")

    @contextmanager
    def capture(self, bpf: str = ""):
        """tcpdump on the bridge (what "the internet" sees); yields a Capture that holds the decoded packet lines and the raw frames when the block ends."""
        pcap = self.workdir / f"capture-{time.monotonic_ns()}.pcap"
        # --immediate-mode: without it packets wait in the kernel ring buffer
        # and are lost when tcpdump is stopped; -Z root: write the file as root.
        proc = subprocess.Popen(["ip", "netns", "exec", self.hub, "tcpdump", "-i", "br0", "--immediate-mode", "-U",
                                 "-Z", "root", "-n", "-w", str(pcap), *bpf.split()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        banner = proc.stderr.readline()  # "listening on br0 ...": attached
        if "listening" not in banner:
            proc.kill()
            raise RuntimeError(f"tcpdump did not start: {banner}")
        result = Capture()
        try:
            yield result
        finally:
            time.sleep(0.3)
            proc.terminate()
            proc.communicate(timeout=5)
            result.lines.extend(sh("tcpdump", "-nn", "-r", str(pcap), check=False).stdout.splitlines())
            result.raw = pcap.read_bytes() if pcap.exists() else b""

    # -- teardown --------------------------------------------------------------
    def teardown(self) -> None:
        for host in [*self.hosts, *([self.outside] if self.outside else [])]:
            host.stop()
        for netns in reversed(self._netns):
            kill_netns_processes(netns)
            sh("ip", "netns", "del", netns, check=False)
        for link in self._root_links:
            sh("ip", "link", "del", link, check=False)
        for route in self._routes:
            sh("ip", "route", "del", route, check=False)
        if self._ns_mounted:
            sh("umount", "-l", str(self.ns_dir), check=False)
            self._ns_mounted = False
        for key, value in self._sysctl_restore.items():
            sh("sysctl", "-q", "-w", f"{key}={value}", check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)
        self._netns.clear()
        self._root_links.clear()
        self._routes.clear()
