"""How the program logs in: a non-root sudo user, pinned host keys.

Test hosts log in as ``debian`` with passwordless sudo, as real VPS images
do, and each presents its own ed25519 host key, which the spec pins.
"""

from __future__ import annotations

import pytest

from tests.integration.mesh_lab import bootstrap
from tests.testhosts.remote import HostKeyMismatch, RemoteCommandFailed, run_script

pytestmark = pytest.mark.integration


def test_scripts_run_as_root_for_the_sudo_user_and_leave_root_owned_files(lab_factory):
    lab = lab_factory(2)
    first = lab.hosts[0]
    assert first.ssh_user != "root"
    # Control: the login user itself is not root and cannot write /etc.
    assert run_script(first.connection(), "id -un")["stdout"] == first.ssh_user
    with pytest.raises(RemoteCommandFailed):
        run_script(first.connection(), "touch /etc/sovereign-probe")
    bootstrap(lab.hosts)
    for host in lab.hosts:
        # What only root could do: the firewall table, root-owned config.
        assert "table inet sovereign" in host.run("nft list tables").stdout, host.name
        owner = host.run("stat -c %U /etc/sysctl.d/90-sovereign.conf").stdout.strip()
        assert owner == "root", host.name


def test_a_host_presenting_another_key_is_refused_and_nothing_runs_there(lab_factory):
    lab = lab_factory(2)
    good, impostor = lab.hosts
    pinned = impostor.host_public_key
    # The machine at that address now presents another key (reinstalled,
    # or somebody else answering there).
    impostor.new_host_key()
    assert impostor.host_public_key != pinned
    lab.kill(impostor)
    lab.start(impostor)

    with pytest.raises(HostKeyMismatch):
        bootstrap(lab.hosts, host_keys={impostor.name: pinned})
    assert "table inet sovereign" not in impostor.run("nft list tables", check=False).stdout


def test_a_user_without_passwordless_sudo_is_told_the_fix(lab_factory):
    lab = lab_factory(1)
    host = lab.hosts[0]
    host.run("rm /etc/sudoers.d/90-test-host")
    with pytest.raises(RemoteCommandFailed) as failed:
        bootstrap(lab.hosts)
    assert failed.value.code == 97
    assert f"{host.ssh_user} cannot run sudo without a password" in failed.value.stderr
    assert "NOPASSWD" in failed.value.stderr
