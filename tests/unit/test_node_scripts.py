"""Node scripts (baseline, firewall) run here with stub system tools.

The baseline runs for real against a sandbox /etc (``ETC_DIR``); dpkg,
apt-get, cloud-init, sysctl, modprobe and swap are stubs that log their calls
and keep a fake package database, so the package logic (only what is missing,
air-gapped, never on test hosts, after cloud-init) and the test-host switch
are exercised without touching this machine. Run as root, the script runs as
``nobody``: a write outside the sandbox fails instead of changing /etc.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from components.compute.cloud_init import BOOTSTRAP_PACKAGES
from components.node.baseline import NODE_PACKAGES
from components.node.ports import POD_INTERFACES
from components.remote.script import render_script
from tests.unit.cluster_support import param
from tests.conftest import require_tool
from tests.stack_runner import example_spec, host_key_for

SCRIPTS = Path(__file__).resolve().parents[2] / "components" / "node" / "scripts"

needs_no_systemd = pytest.mark.usefixtures("no_systemd")  # tests/conftest.py: a failure in CI

STUBS = {
    "dpkg-query": r"""#!/usr/bin/env bash
# dpkg-query -W -f='${Status}' PKG
pkg="${*: -1}"
if grep -qxF "$pkg" "$FAKE_DIR/installed"; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $pkg" >&2; exit 1
""",
    "apt-get": r"""#!/usr/bin/env bash
echo "apt-get DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} $*" >> "$FAKE_LOG"
failures="$(cat "$FAKE_DIR/apt-failures" 2>/dev/null || echo 0)"
if [ "$failures" -gt 0 ]; then
  echo $((failures - 1)) > "$FAKE_DIR/apt-failures"
  echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100
fi
args=("$@"); install=false; i=0
while [ $i -lt ${#args[@]} ]; do
  a="${args[$i]}"
  case "$a" in
    -o) i=$((i+1)) ;;
    -*) ;;
    install) install=true ;;
    *) if $install; then
         grep -qxF "$a" "$FAKE_DIR/unavailable" 2>/dev/null || echo "$a" >> "$FAKE_DIR/installed"
       fi ;;
  esac
  i=$((i+1))
done
""",
    "dpkg": r"""#!/usr/bin/env bash
echo "dpkg $*" >> "$FAKE_LOG"
for a in "$@"; do
  case "$a" in *.deb) basename "$a" | cut -d_ -f1 >> "$FAKE_DIR/installed" ;; esac
done
""",
    "dpkg-deb": r"""#!/usr/bin/env bash
# dpkg-deb -f FILE Package
basename "$2" | cut -d_ -f1
""",
    "cloud-init": r"""#!/usr/bin/env bash
echo "cloud-init $*" >> "$FAKE_LOG"
if [ "${2:-}" = "--wait" ]; then exit "${FAKE_CLOUD_INIT_RC:-0}"; fi
echo "status: ${FAKE_CLOUD_INIT:-done}"
""",
    "swapon": '#!/usr/bin/env bash\necho "${FAKE_SWAP:-}"\n',
    "sysctl": '#!/usr/bin/env bash\necho "sysctl $*" >> "$FAKE_LOG"\n',
    "modprobe": '#!/usr/bin/env bash\necho "modprobe $*" >> "$FAKE_LOG"\n',
    "swapoff": '#!/usr/bin/env bash\necho "swapoff $*" >> "$FAKE_LOG"\n',
    "sshd": '#!/usr/bin/env bash\nexit 0\n',
}

# Everything NODE_PACKAGES asks for, time kept by systemd-timesyncd.
ALL_INSTALLED = ["wireguard-tools", "nftables", "iproute2", "curl", "ca-certificates", "systemd-timesyncd",
                 "unattended-upgrades"]


class Sandbox:
    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.etc = root / "etc"
        self.log = root / "log"
        for d in (self.bin, self.etc):
            d.mkdir()
        for name, text in STUBS.items():
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)
        self.log.touch()
        self.installed = ALL_INSTALLED

    @property
    def installed(self) -> list[str]:
        return (self.root / "installed").read_text().split()

    @installed.setter
    def installed(self, packages) -> None:
        (self.root / "installed").write_text("".join(f"{p}\n" for p in packages))

    def calls(self, prefix: str = "") -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.startswith(prefix)]

    def run(self, *, test_host: bool = False, airgap: bool = False, artifacts: Path | None = None,
            **env) -> subprocess.CompletedProcess:
        script = render_script(SCRIPTS / "baseline.sh", {
            "NODE_NAME": "n1", "SSH_PORT": 22, "PACKAGES": list(NODE_PACKAGES),
            "AIRGAP": airgap, "ARTIFACTS_DIR": artifacts or self.root / "airgap",
        })
        environ = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", "ETC_DIR": str(self.etc),
                   "FAKE_DIR": str(self.root), "FAKE_LOG": str(self.log), **env}
        environ.pop("SOVEREIGN_TEST_HOST", None)
        if test_host:
            environ["SOVEREIGN_TEST_HOST"] = "true"
        return subprocess.run([*unprivileged(self.root), "bash", "-c", script], capture_output=True, text=True,
                              timeout=60, env=environ)


def unprivileged(sandbox: Path) -> list[str]:
    """As root: run as nobody, owner of the sandbox and of nothing else."""
    if os.geteuid() != 0:
        return []
    setpriv = require_tool("setpriv")
    nobody = pwd.getpwnam("nobody")
    for path in (sandbox, *sandbox.rglob("*")):
        os.chown(path, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
    return [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]


@pytest.fixture
def sandbox():
    # Not tmp_path: its parents are private to root, nobody could not enter.
    root = Path(tempfile.mkdtemp(prefix="node-scripts-"))
    root.chmod(0o755)
    yield Sandbox(root)
    shutil.rmtree(root, ignore_errors=True)


def test_node_packages_cover_what_cloud_init_installs():
    covered = {alternative for requirement in NODE_PACKAGES for alternative in requirement.split("|")}
    assert set(BOOTSTRAP_PACKAGES) <= covered
    assert "chrony|systemd-timesyncd" in NODE_PACKAGES  # either keeps the time


@needs_no_systemd
def test_only_missing_packages_are_installed_and_a_rerun_installs_nothing(sandbox):
    sandbox.installed = ["wireguard-tools", "iproute2", "curl", "ca-certificates"]
    out = sandbox.run()
    assert out.returncode == 0, out.stderr
    apt = sandbox.calls("apt-get")
    assert len(apt) == 2 and " update" in apt[0]
    assert all("DEBIAN_FRONTEND=noninteractive" in call and " -y" in call for call in apt)
    assert apt[1].endswith("install --no-install-recommends nftables chrony unattended-upgrades")
    assert "packages: nftables chrony unattended-upgrades" in out.stdout
    # Auto-upgrades are configured once the package is there.
    assert (sandbox.etc / "apt/apt.conf.d/20auto-upgrades").read_text().startswith("APT::Periodic")

    sandbox.log.write_text("")
    again = sandbox.run()
    assert again.returncode == 0, again.stderr
    assert again.stdout == "baseline n1: unchanged\n"
    assert sandbox.calls("apt-get") == [] and sandbox.calls("dpkg ") == []


@needs_no_systemd
def test_apt_held_by_the_machine_s_own_timers_is_retried(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "nftables"]
    (sandbox.root / "apt-failures").write_text("1\n")
    out = sandbox.run(APT_RETRY_SECONDS="0")
    assert out.returncode == 0, out.stderr
    assert "apt-get failed (attempt 1); retrying" in out.stderr
    assert "nftables" in sandbox.installed
    (sandbox.root / "apt-failures").write_text("3\n")
    sandbox.installed = [p for p in ALL_INSTALLED if p != "nftables"]
    assert sandbox.run(APT_RETRY_SECONDS="0").returncode != 0  # three strikes


@needs_no_systemd
def test_an_installed_alternative_satisfies_the_requirement(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "systemd-timesyncd"] + ["chrony"]
    out = sandbox.run()
    assert out.returncode == 0, out.stderr
    assert sandbox.calls("apt-get") == []


@needs_no_systemd
def test_a_package_apt_cannot_install_fails_the_baseline(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "nftables"]
    (sandbox.root / "unavailable").write_text("nftables\n")
    out = sandbox.run()
    assert out.returncode == 1
    assert "packages still missing after the install: nftables" in out.stderr


@needs_no_systemd
def test_air_gapped_installs_staged_packages_only_and_downloads_nothing(sandbox):
    staged = sandbox.root / "airgap" / "node"
    staged.mkdir(parents=True)
    for deb in ("nftables_1.0.6_amd64.deb", "libnftables1_1.0.6_amd64.deb", "curl_7.88_amd64.deb",
                "chrony_4.3_amd64.deb"):
        (staged / deb).touch()
    sandbox.installed = [p for p in ALL_INSTALLED if p != "nftables"]
    out = sandbox.run(airgap=True)
    assert out.returncode == 0, out.stderr
    assert sandbox.calls("apt-get") == []
    [dpkg] = sandbox.calls("dpkg ")
    # The missing package and its missing dependency; not what is installed
    # (curl) nor the other time daemon (chrony: systemd-timesyncd runs).
    debs = sorted(Path(a).name for a in dpkg.split() if a.endswith(".deb"))
    assert debs == ["libnftables1_1.0.6_amd64.deb", "nftables_1.0.6_amd64.deb"]
    assert "packages: nftables" in out.stdout

    sandbox.log.write_text("")
    assert sandbox.run(airgap=True).stdout == "baseline n1: unchanged\n"
    assert sandbox.calls("dpkg ") == []


@needs_no_systemd
def test_air_gapped_without_the_staged_package_fails_clearly(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "wireguard-tools"]
    out = sandbox.run(airgap=True)
    assert out.returncode == 1
    assert f"air-gapped install: no package in {sandbox.root}/airgap/node for: wireguard-tools" in out.stderr
    assert sandbox.calls("apt-get") == []


@needs_no_systemd
def test_test_hosts_never_install_they_share_usr_with_the_machine(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "unattended-upgrades"]
    out = sandbox.run(test_host=True)
    assert out.returncode == 1
    assert "test host: missing unattended-upgrades" in out.stderr
    assert sandbox.calls("apt-get") == [] and sandbox.calls("dpkg ") == []


@needs_no_systemd
def test_cloud_init_finishes_before_any_package_is_installed(sandbox):
    sandbox.installed = [p for p in ALL_INSTALLED if p != "nftables"]
    out = sandbox.run(FAKE_CLOUD_INIT="running")
    assert out.returncode == 0, out.stderr
    calls = sandbox.calls()
    wait = calls.index("cloud-init status --wait")
    assert wait < min(i for i, c in enumerate(calls) if c.startswith("apt-get"))


@needs_no_systemd
@pytest.mark.parametrize("status", ["not run", "disabled"])
def test_cloud_init_not_in_use_on_this_boot_is_not_waited_for(sandbox, status):
    # `cloud-init status --wait` would wait forever for a cloud-init that never runs.
    out = sandbox.run(FAKE_CLOUD_INIT=status)
    assert out.returncode == 0, out.stderr
    assert "cloud-init status --wait" not in sandbox.calls()


@needs_no_systemd
def test_cloud_init_errors_do_not_stop_the_baseline(sandbox):
    out = sandbox.run(FAKE_CLOUD_INIT="running", FAKE_CLOUD_INIT_RC="1")
    assert out.returncode == 0, out.stderr
    assert "cloud-init ended with errors" in out.stderr


@needs_no_systemd
def test_a_real_node_gets_machine_wide_settings(sandbox):
    (sandbox.etc / "fstab").write_text("UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n")
    out = sandbox.run(FAKE_SWAP="/swapfile file 1G 0B -2")
    assert out.returncode == 0, out.stderr
    sysctls = sandbox.calls("sysctl")
    assert "sysctl -q -e -w fs.inotify.max_user_instances=8192" in sysctls
    assert "sysctl -q -e -w net.ipv4.ip_forward=1" in sysctls
    assert sandbox.calls("swapoff") == ["swapoff -a"]
    assert "# /swapfile none swap sw 0 0" in (sandbox.etc / "fstab").read_text()
    if not Path("/sys/module/br_netfilter").exists():
        assert "modprobe br_netfilter" in sandbox.calls("modprobe")
    assert "skipped" not in out.stderr


def test_the_baseline_delete_gives_the_machine_its_settings_back(sandbox):
    fstab = "UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n"
    (sandbox.etc / "fstab").write_text(fstab)
    (sandbox.etc / "sysctl.d").mkdir()
    (sandbox.etc / "sysctl.d/10-theirs.conf").write_text("vm.swappiness = 10\n")
    assert sandbox.run(FAKE_SWAP="/swapfile file 1G 0B -2").returncode == 0
    written = ["ssh/sshd_config.d/90-sovereign.conf", "modules-load.d/90-sovereign.conf", "sysctl.d/90-sovereign.conf"]
    assert all((sandbox.etc / f).exists() for f in written)

    environ = {**os.environ, "ETC_DIR": str(sandbox.etc)}
    removed = subprocess.run([*unprivileged(sandbox.root), "bash", "-c",
                              render_script(SCRIPTS / "baseline-remove.sh", {})],
                             capture_output=True, text=True, timeout=30, env=environ)
    assert removed.returncode == 0, removed.stderr
    assert not any((sandbox.etc / f).exists() for f in written)
    assert (sandbox.etc / "fstab").read_text() == fstab
    assert (sandbox.etc / "sysctl.d/10-theirs.conf").read_text() == "vm.swappiness = 10\n"
    again = subprocess.run(["bash", "-c", render_script(SCRIPTS / "baseline-remove.sh", {})],
                           capture_output=True, text=True, timeout=30, env=environ)
    assert (again.returncode, again.stdout.strip()) == (0, "baseline: removed")


@needs_no_systemd
def test_a_test_host_skips_machine_wide_changes_but_applies_its_own(sandbox):
    (sandbox.etc / "fstab").write_text("/swapfile none swap sw 0 0\n")
    out = sandbox.run(test_host=True, FAKE_SWAP="/swapfile file 1G 0B -2")
    assert out.returncode == 0, out.stderr
    sysctls = sandbox.calls("sysctl")
    assert sysctls and all(" net." in call for call in sysctls), sysctls
    assert "sysctl -q -e -w net.ipv4.ip_forward=1" in sysctls
    assert sandbox.calls("modprobe") == [] and sandbox.calls("swapoff") == []
    assert "test host: machine-wide changes skipped:" in out.stderr
    assert "sysctl fs.inotify.max_user_watches" in out.stderr and "swapoff" in out.stderr
    # The files are the host's own (its private /etc): written as on a real node.
    assert "fs.inotify.max_user_instances = 8192" in (sandbox.etc / "sysctl.d/90-sovereign.conf").read_text()


# -- firewall -------------------------------------------------------------------

def firewall_rules(tmp_path, **params) -> subprocess.CompletedProcess:
    """Render the firewall (DRY_RUN) and check it with nft -c when possible."""
    env = {**os.environ, "DRY_RUN": "true", "RENDER_DIR": str(tmp_path / "nft")}
    if os.geteuid() != 0:  # nft -c needs CAP_NET_ADMIN: check the syntax elsewhere
        stub = tmp_path / "bin"
        stub.mkdir(exist_ok=True)
        (stub / "nft").write_text("#!/usr/bin/env bash\nexit 0\n")
        (stub / "nft").chmod(0o755)
        env["PATH"] = f"{stub}:{env['PATH']}"
    else:
        require_tool("nft")
    script = render_script(SCRIPTS / "firewall.sh", {
        "MESH_INTERFACE": "wg0", "MESH_CIDR": "10.42.0.0/16", "WG_PORT": 51820,
        "CLUSTER_TCP_PORTS": ["6443", "10250"], "POD_CIDR": "10.244.0.0/16", **params,
    })
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env)


def chain(text: str, name: str) -> list[str]:
    """The rule lines of one chain of the rendered table."""
    body = text.split(f"  chain {name} {{\n", 1)[1].split("\n  }", 1)[0]
    return [line.strip() for line in body.splitlines()]


def test_pod_cidr_is_accepted_on_the_cni_interfaces_only(tmp_path):
    out = firewall_rules(tmp_path, POD_INTERFACES=POD_INTERFACES)
    assert out.returncode == 0, out.stderr
    rules = chain((tmp_path / "nft/sovereign.nft").read_text(), "input")
    pod_rules = [r.strip() for r in rules if "10.244.0.0/16" in r]
    assert not any("!=" in r for r in rules), "a negated interface match would include the public interface"
    interfaces = [re.match(r'^iifname "([^"]+)" ip saddr 10\.244\.0\.0/16 accept', r) for r in pod_rules]
    assert all(interfaces), pod_rules
    assert [m[1] for m in interfaces] == list(POD_INTERFACES)
    assert {"cali*", "lxc*", "cilium_*", "vxlan.calico", "tunl0"} <= set(POD_INTERFACES)


def test_forwarding_is_filtered_to_mesh_pods_replies_and_published_ports(tmp_path):
    out = firewall_rules(tmp_path, POD_INTERFACES=["cali*", "lxc*"], PUBLISHED_TCP_PORTS=["80", "443"])
    assert out.returncode == 0, out.stderr
    forward = chain((tmp_path / "nft/sovereign.nft").read_text(), "forward")
    assert forward == [
        "type filter hook forward priority filter; policy drop;",
        "ct state established,related accept",
        "ct state invalid drop",
        'iifname "wg0" ip saddr 10.42.0.0/16 accept comment "mesh: other nodes, relayed peers"',
        'iifname "wg0" ip saddr 10.244.0.0/16 accept comment "pods of other nodes over the mesh"',
        'iifname "cali*" ip saddr 10.244.0.0/16 accept comment "pods: to each other, the mesh and out"',
        'iifname "lxc*" ip saddr 10.244.0.0/16 accept comment "pods: to each other, the mesh and out"',
        'ct status dnat meta l4proto tcp ct original proto-dst { 80, 443 } accept comment "published (hostPort, LoadBalancer)"',
    ]


def test_without_published_ports_nothing_dnated_is_forwarded(tmp_path):
    out = firewall_rules(tmp_path, POD_INTERFACES=["cali*"])
    assert out.returncode == 0, out.stderr
    forward = chain((tmp_path / "nft/sovereign.nft").read_text(), "forward")
    assert forward[0].endswith("policy drop;")
    assert not any("dnat" in rule for rule in forward)


def test_the_program_passes_the_pod_interfaces_to_the_firewall(stack_run):
    run = stack_run(example_spec("budget"), stack="budget")
    script = run.named("budget-baseline-vps-1-firewall").script("create")
    assert f"export POD_INTERFACES='{chr(10).join(POD_INTERFACES)}'" in script


@pytest.mark.parametrize("bad", ["*", "wg*", "eth0; drop", 'x"y'])
def test_pod_interfaces_that_could_match_the_mesh_or_every_interface_are_refused(tmp_path, bad):
    out = firewall_rules(tmp_path, POD_INTERFACES=["cali*", bad])
    assert out.returncode == 1
    assert "POD_INTERFACES" in out.stderr
    assert not (tmp_path / "nft/sovereign.nft").exists()


# -- the component --------------------------------------------------------------

def test_every_node_baseline_gets_the_package_list_and_installs_online_by_default(stack_run):
    run = stack_run(example_spec("budget"), stack="budget")
    script = run.named("budget-baseline-vps-1-baseline").script("create")
    assert f"export PACKAGES='{chr(10).join(NODE_PACKAGES)}'" in script
    assert "export AIRGAP=false" in script
    assert "export SOVEREIGN_TEST_HOST" not in script and "export ETC_DIR" not in script  # test-only switches


def _baseline_scripts(**extra_args) -> dict[str, str]:
    """NodeBaseline alone on two existing hosts, under mocks: node -> rendered baseline."""
    import pulumi

    from components.compute.existing import ExistingNodes
    from components.node.baseline import NodeBaseline
    from components.spec import catalog_for, parse_cluster_spec
    from components.topology.plan import plan_nodes
    from tests.stack_runner import SSH_KEY_FOR_TESTS, run_components

    data = {
        "name": "t", "distribution": "k3s", "version": "1.31.4",
        "ssh": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC t"},
        "nodeGroups": {
            "cp": {"provider": "existing", "roles": ["control-plane"], "sshUser": "root",
                   "hosts": [{"name": "a", "address": "192.0.2.1", "hostKey": host_key_for("a")}]},
            "nodes": {"provider": "existing", "roles": ["worker"], "sshUser": "root",
                      "hosts": [{"name": "b", "address": "192.0.2.2", "hostKey": host_key_for("b")}]},
        },
    }

    def program() -> None:
        spec = parse_cluster_spec(data, catalog=catalog_for(data))
        pool = ExistingNodes("t-existing", {"spec": spec, "nodes": plan_nodes(spec), "catalog": catalog_for(data),
                                            "ssh_private_key": pulumi.Output.secret(SSH_KEY_FOR_TESTS)})
        NodeBaseline("t-baseline", {
            "nodes": pool.nodes, "mesh_cidr": "10.42.0.0/16", "mesh_interface": "wg0", "wireguard_port": 51820,
            "ssh_source_cidrs": ["0.0.0.0/0"], "published_ports": {}, "cluster_tcp_ports": ["6443"],
            "cluster_udp_ports": [], "pod_cidr": "10.244.0.0/16", **extra_args,
        })

    run = run_components(program, stack="t")
    return {name: run.named(f"t-baseline-{name}-baseline").script("create") for name in ("a", "b")}


def test_air_gapped_baselines_install_from_the_artifacts_dir():
    for script in _baseline_scripts(airgap=True, artifacts_dir="/srv/airgap").values():
        assert "export AIRGAP=true" in script and "export ARTIFACTS_DIR=/srv/airgap" in script
    for script in _baseline_scripts().values():
        assert "export AIRGAP=false" in script and "export ARTIFACTS_DIR=/var/lib/sovereign/airgap" in script


def test_the_spec_airgap_setting_reaches_every_baseline(stack_run):
    spec = example_spec("budget")
    spec["kubernetes"] = {**spec.get("kubernetes", {}), "airgap": {"enabled": True, "artifactsDir": "/srv/airgap"}}
    run = stack_run(spec, stack="budget")
    for command in run.of_type("command:remote:Command"):
        if command.name.endswith("-baseline"):
            assert "export AIRGAP=true" in command.script("create"), command.name
            assert "export ARTIFACTS_DIR=/srv/airgap" in command.script("create"), command.name


def test_the_api_is_open_publicly_to_its_sources_only_and_closed_without_them(tmp_path):
    out = firewall_rules(tmp_path, API_PORT=6443, API_SOURCE_CIDRS=["203.0.113.10/32", "198.51.100.0/24"])
    assert out.returncode == 0, out.stderr
    rules = [r.strip() for r in (tmp_path / "nft/sovereign.nft").read_text().splitlines()]
    assert "set api_sources { type ipv4_addr; flags interval; elements = { 203.0.113.10/32, 198.51.100.0/24 } }" in rules
    public_api = [r for r in rules if "dport 6443" in r and "iifname" not in r]
    assert public_api == ['tcp dport 6443 ip saddr @api_sources accept comment "kubernetes API for operators"']
    closed = firewall_rules(tmp_path, API_PORT=6443, API_SOURCE_CIDRS=[])
    assert closed.returncode == 0, closed.stderr
    text = (tmp_path / "nft/sovereign.nft").read_text()
    assert "api_sources" not in text
    assert not [r for r in text.splitlines() if "6443" in r and "iifname" not in r]


def test_only_control_planes_open_the_api_to_the_spec_sources(stack_run):
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["apiSourceCidrs"] = ["203.0.113.10/32"]
    run = stack_run(spec, stack="prod")
    firewalls = {r.name.removeprefix("prod-baseline-").removesuffix("-firewall"): r.script("create")
                 for r in run.resources if r.name.endswith("-firewall") and "baseline" in r.name}
    for name, script in firewalls.items():
        expected = "203.0.113.10/32" if name.startswith("cp-") else ""
        assert param(script, "API_SOURCE_CIDRS") == expected, name
    assert sum(name.startswith("cp-") for name in firewalls) == 2
