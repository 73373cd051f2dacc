"""One test host: its own network, mount and UTS namespaces, and sshd."""

from __future__ import annotations

import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .shell import as_list, kill_netns_processes, sh

# Test only: every SSH session on a test host has it, and node scripts skip
# what would change the machine rather than the host (a test host shares the
# kernel and /usr with it: modules, non-network sysctls, swap, packages).
# The program never sets it; real nodes never have it.
TEST_HOST_ENV = "SOVEREIGN_TEST_HOST"

# Real VPS images log in as a non-root user with passwordless sudo; so do
# test hosts, and the program must escalate (components/remote/command.py).
SSH_USER = "debian"
SUDOERS = f"""\
{SSH_USER} ALL=(ALL) NOPASSWD:ALL
Defaults env_keep += "{TEST_HOST_ENV}"
"""

SSHD_CONFIG = """\
SetEnv {test_host_env}=true
ListenAddress 0.0.0.0
Port 22
HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile /run/sshd.pid
Subsystem sftp internal-sftp
"""


@dataclass
class TestHost:
    """A machine of the lab. ``public_ip`` is its address on the bridge (or,
    behind NAT, on its private LAN, reachable from the test runner only)."""

    __test__ = False  # not a pytest test class

    name: str
    netns: str
    public_ip: str
    workdir: Path
    ssh_private_key_path: Path
    behind_nat: bool = False
    ssh_user: str = SSH_USER
    ssh_port: int = 22
    hub_veth: str = ""
    ns_dir: Path | None = None  # a private mount holding the namespace handles
    _sshd: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def ssh_private_key(self) -> str:
        return self.ssh_private_key_path.read_text()

    @property
    def host_key_path(self) -> Path:
        """This machine's own SSH host key (each host has its own, as real ones do)."""
        return self.workdir / "ssh_host_ed25519_key"

    @property
    def host_public_key(self) -> str:
        """``ssh-ed25519 AAAA...``: what the spec's ``hostKey`` pins."""
        kind, blob = self.host_key_path.with_suffix(".pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def connection(self, *, user: str | None = None) -> dict:
        """A pulumi-command ``connection`` to this host, host key pinned."""
        return {"host": self.public_ip, "port": self.ssh_port, "user": user or self.ssh_user,
                "privateKey": self.ssh_private_key, "hostKey": self.host_public_key}

    def new_host_key(self) -> None:
        """The machine is reinstalled (or impersonated): another host key."""
        for path in (self.host_key_path, self.host_key_path.with_suffix(".pub")):
            path.unlink(missing_ok=True)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(self.host_key_path))

    @property
    def mnt_ns(self) -> Path:
        return self.ns_dir / f"{self.name}.mnt"

    @property
    def uts_ns(self) -> Path:
        return self.ns_dir / f"{self.name}.uts"

    def nsenter(self) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.netns}", f"--mount={self.mnt_ns}", f"--uts={self.uts_ns}", "--"]

    def run(self, cmd, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run inside the host (for test assertions, not for the program)."""
        return sh(*self.nsenter(), *as_list(cmd), check=check, timeout=timeout)

    def popen(self, cmd, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([*self.nsenter(), *as_list(cmd)], **kwargs)

    # -- life cycle -----------------------------------------------------------
    def create_filesystem(self) -> None:
        """Persistent mount + UTS namespaces: private /run and /sys, an overlay /etc,
        so node scripts writing /etc or /run never touch the real machine."""
        for d in ("run", "etc-upper", "etc-work"):
            (self.workdir / d).mkdir(parents=True, exist_ok=True)
        self.mnt_ns.touch()
        self.uts_ns.touch()
        setup = (
            f"hostname {self.name} && "
            f"mount -t overlay overlay -o lowerdir=/etc,upperdir={self.workdir}/etc-upper,workdir={self.workdir}/etc-work /etc && "
            f"mount --bind {self.workdir}/run /run && mkdir -p /run/sshd /run/wireguard && "
            # A sysfs of its own, so /sys/class/net lists this host's interfaces.
            "mount -t sysfs sysfs /sys && "
            # The login user (its password '*': no password, yet not locked),
            # its home in the host's private /run.
            f"useradd --create-home --home-dir /run/home/{SSH_USER} --shell /bin/bash --password '*' {SSH_USER} && "
            f"printf '%s' {shlex.quote(SUDOERS)} > /etc/sudoers.d/90-test-host && chmod 0440 /etc/sudoers.d/90-test-host && "
            # sudo resolves the host name.
            f"echo '127.0.1.1 {self.name}' >> /etc/hosts"
        )
        sh("nsenter", f"--net=/run/netns/{self.netns}", "unshare", f"--mount={self.mnt_ns}",
           f"--uts={self.uts_ns}", "--propagation", "private", "sh", "-c", setup)
        self.new_host_key()

    def start_sshd(self, authorized_keys: Path) -> None:
        config = self.workdir / "sshd_config"
        config.write_text(SSHD_CONFIG.format(host_key=self.host_key_path, authorized_keys=authorized_keys,
                                             test_host_env=TEST_HOST_ENV))
        self._sshd = self.popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.run("ss -ltn | grep -q ':22 '", check=False).returncode == 0:
                return
            time.sleep(0.02)
        raise RuntimeError(f"sshd did not start on {self.name}")

    def kill(self) -> None:
        """The machine dies: every process in it stops and its link goes down."""
        kill_netns_processes(self.netns)
        if self._sshd is not None:
            self._sshd.wait(timeout=5)
            self._sshd = None
        self.run("ip link set eth0 down", check=False)

    def start(self, authorized_keys: Path) -> None:
        """The machine boots again: link up, sshd running; WireGuard is the
        bootstrap's job (a re-run of the program must bring it back)."""
        self.run("ip link set eth0 up")
        self.start_sshd(authorized_keys)

    def set_underlay_mtu(self, mtu: int) -> None:
        self.run(f"ip link set eth0 mtu {mtu}")

    def stop(self) -> None:
        kill_netns_processes(self.netns)
        if self._sshd is not None:
            self._sshd.wait(timeout=5)
            self._sshd = None
        # Releasing the handles lets the kernel drop the namespaces and their mounts.
        for handle in (self.mnt_ns, self.uts_ns):
            sh("umount", str(handle), check=False)
