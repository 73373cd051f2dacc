"""The harness itself: isolation, remote execution, NAT, teardown.

Every node-level test trusts these properties; if one broke, a mesh test
could pass against the real machine instead of a test host.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testhosts import fixtures
from tests.testhosts.lab import Lab
from tests.testhosts.remote import RemoteCommandFailed, run_script
from tests.testhosts.shell import sh

pytestmark = pytest.mark.integration


def _connection(host) -> dict:
    return host.connection(user="root")


def test_hosts_have_their_own_etc_run_sys_and_hostname(lab_factory):
    lab = lab_factory(2)
    a, b = lab.hosts
    marker = "/etc/sovereign-harness-marker"
    a.run(f"echo {a.name} > {marker}")
    assert a.run(f"cat {marker}").stdout.strip() == a.name
    assert b.run(f"test -e {marker}", check=False).returncode != 0
    assert not Path(marker).exists(), "a test host wrote the real /etc"
    assert a.run("hostname").stdout.strip() == a.name
    assert a.run("ls /sys/class/net").stdout.split() == ["eth0", "lo"]
    a.run("touch /run/harness-marker")
    assert not Path("/run/harness-marker").exists()


def test_remote_commands_run_over_ssh_and_fail_loudly(lab_factory):
    lab = lab_factory(1)
    host = lab.hosts[0]
    out = run_script(_connection(host), "#!/bin/sh\nhostname\necho warn >&2\n")
    assert out == {"stdout": host.name, "stderr": "warn"}
    with pytest.raises(RemoteCommandFailed) as failure:
        run_script(_connection(host), "#!/bin/sh\necho broken >&2\nexit 3\n", name="demo")
    assert failure.value.code == 3 and "broken" in str(failure.value)


def test_nat_host_dials_out_but_nothing_dials_in(lab_factory):
    lab = lab_factory(1, nat_hosts=1)
    public, natted = lab.hosts
    assert natted.behind_nat
    assert natted.run(f"ping -c 1 -W 1 {public.public_ip}", check=False).returncode == 0
    assert public.run(f"ping -c 1 -W 1 {natted.public_ip}", check=False).returncode != 0
    # The operator (test runner) still reaches it, as over a LAN.
    assert run_script(_connection(natted), "#!/bin/sh\nhostname\n")["stdout"] == natted.name


def test_teardown_leaves_no_namespace_process_or_route():
    fixtures.require_test_hosts()
    lab = Lab(2, nat_hosts=1).__enter__()
    prefix, workdir, router = lab.prefix, lab.workdir, lab.address(201)
    pids = [pid for ns in lab._netns for pid in sh("ip", "netns", "pids", ns).stdout.split()]
    assert pids, "the lab runs sshd in its hosts"
    lab.teardown()
    assert prefix not in sh("ip", "netns", "list").stdout
    assert prefix not in sh("ip", "link").stdout
    assert f"via {router} " not in sh("ip", "route").stdout
    assert not workdir.exists()
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)


def test_missing_requirements_fail_under_ci(monkeypatch):
    monkeypatch.setattr(fixtures, "missing_requirements", lambda: ["wireguard-go"])
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="wireguard-go"):
        fixtures.require_test_hosts()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        fixtures.require_test_hosts()
