"""Snapshots of kubeadm's stacked etcd (static pods on the control planes),
under mocks: the dedicated members' scripts reused on every control plane,
after its init/join, with kubeadm's certificates; S3 credentials as
secrets; air-gap with the staged etcdctl. Then the restore script's
stacked mode, with stub tools in a sandbox."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from components.cluster.etcd.snapshots import SCRIPTS
from components.remote.script import render_script
from tests.stack_runner import example_spec, run_spec, run_spec_with_secrets

from .cluster_support import deps, leaks, param, stacked_prod_spec

CPS = ["cp-paris-1", "cp-sbg-1", "cp-fsn-1"]
WORKERS = ["gpu-paris-1", "gpu-gra-1", "gpu-houston-1", "onprem-paris-1"]
ETCD_NODES = ["etcd-gra-1", "etcd-fsn-1", "etcd-paris-1"]
KUBEADM_ETCDCTL_ENV = {
    "ETCDCTL_API": "3",
    "ETCDCTL_ENDPOINTS": "https://127.0.0.1:2379",
    "ETCDCTL_CACERT": "/etc/kubernetes/pki/etcd/ca.crt",
    "ETCDCTL_CERT": "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    "ETCDCTL_KEY": "/etc/kubernetes/pki/etcd/healthcheck-client.key",
}


def body(script: str) -> str:
    """A script file without its shebang: what a rendered script ends with."""
    return (SCRIPTS / script).read_text().split("\n", 1)[1]


def env_file(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def stdin_values(cmd) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (line.split("=", 1) for line in cmd.inputs["stdin"].splitlines())}


@pytest.fixture(scope="module")
def stacked():
    return run_spec(stacked_prod_spec(), stack="prod")


def test_every_control_plane_schedules_snapshots_after_its_init_or_join(stacked):
    names = sorted(r.name for r in stacked.resources if r.name.endswith("-etcd-snapshots"))
    assert names == sorted(f"prod-{cp}-etcd-snapshots" for cp in CPS)
    cluster = stacked.named("prod")
    first = stacked.named("prod-cp-paris-1-etcd-snapshots")
    assert first.parent_urn == cluster.urn
    assert "prod-cp-paris-1-kubeadm-init" in deps(stacked, first)
    for cp in CPS[1:]:
        snapshots = stacked.named(f"prod-{cp}-etcd-snapshots")
        assert snapshots.parent_urn == cluster.urn
        # Its own join: deleted (unscheduled) before that join's kubeadm reset.
        assert f"prod-{cp}-kubeadm-join" in deps(stacked, snapshots)
        assert not {f"prod-{o}-kubeadm-join" for o in CPS if o != cp} & deps(stacked, snapshots)
    for worker in WORKERS:
        with pytest.raises(KeyError):
            stacked.named(f"prod-{worker}-etcd-snapshots")


def test_the_dedicated_members_scripts_run_with_kubeadms_certificates(stacked):
    for cp in CPS:
        cmd = stacked.named(f"prod-{cp}-etcd-snapshots")
        schedule = cmd.script("create")
        assert schedule.endswith(body("etcd-snapshot-schedule.sh")) and cmd.script("update") == schedule
        assert param(schedule, "SCHEDULE") == "0 */6 * * *"
        assert param(schedule, "INTERVAL_SECONDS") == str(6 * 3600)
        assert param(schedule, "S3") == "false"
        assert env_file(param(schedule, "ETCDCTL_ENV")) == KUBEADM_ETCDCTL_ENV
        assert param(schedule, "INSTALL_ETCDCTL") == "true" and param(schedule, "AIRGAP") == "false"
        snapshot = param(schedule, "SNAPSHOT_SCRIPT")
        assert snapshot.endswith(body("etcd-snapshot.sh"))
        assert param(snapshot, "ETCD_NAME") == cp
        assert param(snapshot, "SNAPSHOT_DIR") == "/var/lib/etcd-snapshots"
        assert param(snapshot, "RETENTION") == "28" and param(snapshot, "S3_ENDPOINT") == ""
        # The snapshot script reads the env file the schedule writes.
        assert ". /etc/etcd/etcdctl.env" in snapshot and "ETCDCTL_ENDPOINTS" not in snapshot
        delete = cmd.script("delete")
        assert delete.endswith(body("etcd-snapshot-unschedule.sh"))
        assert param(delete, "REMOVE_ETCDCTL_ENV") == "true"
        assert not cmd.inputs.get("stdin")


def test_stacked_snapshots_go_to_s3_with_secret_credentials_and_air_gapped_etcdctl():
    spec = stacked_prod_spec()
    spec["kubernetes"] = {
        "etcdSnapshots": {"schedule": "15 */4 * * *", "retention": 7,
                          "s3": {"endpoint": "https://s3.gra.io.cloud.ovh.net", "bucket": "prod-etcd",
                                 "region": "gra", "folder": "stacked"}},
        "airgap": {"enabled": True, "artifactsDir": "/srv/airgap"},
    }
    # prod's database backups need their own keys (stacks/program.py checks them first).
    run = run_spec_with_secrets(spec, stack="prod", etcdS3AccessKey="AKIASTACKED",
                                etcdS3SecretKey="s3-secret-of-stacked-etcd",
                                dataBackupS3AccessKey="AKIAPRODDATA", dataBackupS3SecretKey="s3-secret-of-prod-data")
    for cp in CPS:
        cmd = run.named(f"prod-{cp}-etcd-snapshots")
        schedule = cmd.script("create")
        assert param(schedule, "SCHEDULE") == "15 */4 * * *"
        assert param(schedule, "INTERVAL_SECONDS") == str(4 * 3600)
        assert param(schedule, "S3") == "true"
        assert param(schedule, "AIRGAP") == "true" and param(schedule, "ARTIFACTS_DIR") == "/srv/airgap"
        assert '"${ARTIFACTS_DIR}/etcd/etcdctl"' in schedule  # the pre-staged binary, as ExternalEtcd installs it
        snapshot = param(schedule, "SNAPSHOT_SCRIPT")
        assert (param(snapshot, "S3_ENDPOINT"), param(snapshot, "S3_BUCKET"), param(snapshot, "S3_REGION"),
                param(snapshot, "S3_FOLDER"), param(snapshot, "RETENTION")) == \
            ("https://s3.gra.io.cloud.ovh.net", "prod-etcd", "gra", "stacked", "7")
        assert "stdin" in cmd.secret_paths
        assert stdin_values(cmd) == {"S3_ACCESS_KEY": "AKIASTACKED", "S3_SECRET_KEY": "s3-secret-of-stacked-etcd"}
    assert leaks(run, "s3-secret-of-stacked-etcd") == []
    assert leaks(run, "AKIASTACKED") == []


def test_stacked_snapshots_can_be_turned_off():
    spec = stacked_prod_spec()
    spec["kubernetes"] = {"etcdSnapshots": {"enabled": False}}
    run = run_spec(spec, stack="prod")
    assert [r.name for r in run.resources if r.name.endswith("-etcd-snapshots")] == []


def test_external_etcd_keeps_its_own_snapshots_and_control_planes_take_none():
    run = run_spec(example_spec("prod"), stack="prod")
    names = sorted(r.name for r in run.resources if r.name.endswith("-etcd-snapshots"))
    assert names == sorted(f"prod-etcd-{n}-etcd-snapshots" for n in ETCD_NODES)
    for node in ETCD_NODES:
        cmd = run.named(f"prod-etcd-{node}-etcd-snapshots")
        schedule = cmd.script("create")
        # etcd-member.sh writes the member's etcdctl.env and installs etcdctl.
        for name in ("ETCDCTL_ENV", "INSTALL_ETCDCTL", "AIRGAP"):
            assert f"\nexport {name}=" not in schedule, name
        assert "\nexport REMOVE_ETCDCTL_ENV=" not in cmd.script("delete")
        assert f"prod-etcd-{node}-etcd" in deps(run, cmd)
        assert not {d for d in deps(run, cmd) if d.endswith(("-kubeadm-init", "-kubeadm-join"))}
    for cp in CPS[:2]:
        with pytest.raises(KeyError):
            run.named(f"prod-{cp}-etcd-snapshots")


# -- the restore script's stacked mode, in a sandbox ----------------------------------

FAKE_PGREP = r"""#!/usr/bin/env bash
# etcd runs while its static pod manifest is in place.
echo "pgrep $*" >> "$FAKE_LOG"
[ -f "$FAKE_KUBE/manifests/etcd.yaml" ]
"""

FAKE_ETCDUTL = r"""#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$FAKE_LOG"
if [ "$1 $2" = "snapshot restore" ]; then
  [ ! -f "$FAKE_KUBE/etcd.yaml.restoring" ] || { echo "restore while etcd is parked" >&2; exit 1; }
  while [ "$#" -gt 0 ]; do
    if [ "$1" = --data-dir ]; then mkdir -p "$2/member"; echo restored > "$2/member/marker"; fi
    shift
  done
fi
"""


@pytest.fixture
def sandbox(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("pgrep", FAKE_PGREP), ("etcdutl", FAKE_ETCDUTL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    kube = tmp_path / "kubernetes"
    (kube / "manifests").mkdir(parents=True)
    (kube / "manifests" / "etcd.yaml").write_text("kind: Pod\n")
    data = tmp_path / "etcd"
    (data / "member").mkdir(parents=True)
    (data / "member" / "marker").write_text("old")
    snapshot = tmp_path / "etcd.db"
    snapshot.write_text("snapshot")
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log), "FAKE_KUBE": str(kube)}
    return env, kube, data, snapshot, log


def restore(env, kube, data, snapshot):
    script = render_script(SCRIPTS / "etcd-restore.sh", {
        "SNAPSHOT": snapshot, "ETCD_NAME": "cp-sbg-1", "MESH_IP": "10.42.241.1",
        "CLUSTER": ["cp-paris-1 10.42.9.1", "cp-sbg-1 10.42.241.1", "cp-fsn-1 10.42.77.1"],
        "NEW_TOKEN": "prod-restored", "DATA_DIR": data, "STACKED": True, "KUBE_DIR": kube,
    })
    return subprocess.run(["bash", "-c", script], check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_stacked_restore_replaces_the_static_pods_data_and_keeps_the_old_aside(sandbox):
    env, kube, data, snapshot, log = sandbox
    out = restore(env, kube, data, snapshot)
    assert out.returncode == 0, out.stderr
    aside = Path(out.stdout.strip())
    assert aside.name.startswith("etcd.before-restore-") and (aside / "member" / "marker").read_text() == "old"
    assert (data / "member" / "marker").read_text() == "restored\n"
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    # The static pod is back, nothing left parked.
    assert (kube / "manifests" / "etcd.yaml").read_text() == "kind: Pod\n"
    assert not (kube / "etcd.yaml.restoring").exists()
    calls = log.read_text().splitlines()
    restore_call = next(c for c in calls if c.startswith("etcdutl snapshot restore"))
    assert f"etcdutl snapshot status {snapshot}" in calls
    assert "--name cp-sbg-1" in restore_call
    assert ("--initial-cluster cp-paris-1=https://10.42.9.1:2380,cp-sbg-1=https://10.42.241.1:2380,"
            "cp-fsn-1=https://10.42.77.1:2380") in restore_call
    assert "--initial-cluster-token prod-restored" in restore_call
    assert "--initial-advertise-peer-urls https://10.42.241.1:2380" in restore_call
    # Stopped (etcd gone) after the restore into a new directory, before the swap.
    assert calls.index(restore_call) < calls.index("pgrep -x etcd")


def test_stacked_restore_refuses_while_kube_apiserver_runs_or_without_stacked_etcd(sandbox):
    env, kube, data, snapshot, log = sandbox
    (kube / "manifests" / "kube-apiserver.yaml").write_text("kind: Pod\n")
    running = restore(env, kube, data, snapshot)
    assert running.returncode == 1 and "kube-apiserver still runs here" in running.stderr
    (kube / "manifests" / "kube-apiserver.yaml").unlink()
    (kube / "manifests" / "etcd.yaml").unlink()
    missing = restore(env, kube, data, snapshot)
    assert missing.returncode == 1 and "not a kubeadm control plane with stacked etcd" in missing.stderr
    # Nothing touched.
    assert (data / "member" / "marker").read_text() == "old" and log.read_text() == ""
