"""KubeadmCluster under mocks, on the prod example (external etcd) and a
stacked-etcd variant: dependency graph, documents, secrets, removal paths."""

from __future__ import annotations

import base64

import pytest
import yaml

from components.cluster.common.secrets import BOOTSTRAP_TOKEN, CERTIFICATE_KEY
from components.cluster.kubeadm.config import CERTIFICATE_KEY_PLACEHOLDER, TOKEN_PLACEHOLDER
from stacks.plan.fakes.cluster import fake_ca_cert_hash
from tests.stack_runner import example_spec, run_spec, run_spec_with_secrets

from .cluster_support import (
    additional_secret_outputs, deps, leaks, param, plain_text, stacked_prod_spec, transitive_deps,
)

CPS = ["cp-paris-1", "cp-sbg-1"]
WORKERS = ["gpu-paris-1", "gpu-gra-1", "gpu-houston-1", "onprem-paris-1"]
ETCD_NODES = ["etcd-gra-1", "etcd-fsn-1", "etcd-paris-1"]


@pytest.fixture(scope="module")
def run():
    return run_spec(example_spec("prod"), stack="prod")


def docs(script: str) -> dict:
    return {d["kind"]: d for d in yaml.safe_load_all(param(script, "KUBEADM_CONFIG"))}


def etcd_ready_names(run) -> set[str]:
    """Resources under the prod-etcd component that some control plane waits for."""
    component = run.named("prod-etcd")
    under = set()
    frontier = [component.urn]
    while frontier:
        parent = frontier.pop()
        for r in run.resources:
            if r.parent_urn == parent:
                under.add(r.name)
                frontier.append(r.urn)
    return under


def test_etcd_is_ready_before_any_control_plane(run):
    under_etcd = etcd_ready_names(run)
    for name in ["prod-cp-paris-1-kubeadm-init", "prod-cp-sbg-1-kubeadm-join"]:
        assert deps(run, run.named(name)) & under_etcd, f"{name} waits for no etcd resource"
        # Through the health check, which itself waits for every member.
        waited = transitive_deps(run, run.named(name)) & under_etcd
        for etcd_node in ETCD_NODES:
            assert any(etcd_node in w for w in waited), f"{name} does not wait for {etcd_node}"


def test_init_runs_once_on_the_first_control_plane(run):
    init = run.named("prod-cp-paris-1-kubeadm-init")
    assert deps(run, init) >= {"prod-cp-paris-1-k8s-packages", "prod-cp-paris-1-api-lb"}
    assert not any(d.endswith(("-kubeadm-join", "-kubeadm-init", "-member")) for d in deps(run, init))
    assert len([r for r in run.resources if r.name.endswith("-kubeadm-init")]) == 1
    script = init.script("create")
    assert param(script, "OTHER_CONTROL_PLANES") == "10.42.241.1"
    assert param(script, "EXTERNAL_ETCD") == "true"
    assert 'kubeadm init --config "${KUBE_DIR}/kubeadm-init.yaml" --upload-certs' in script
    assert "refusing kubeadm init" in script  # the second-cluster guard
    d = docs(script)
    etcd_ips = {n["mesh_ip"] for n in run.outputs["nodes"] if n["name"] in ETCD_NODES}
    assert {e.split("//")[1].split(":")[0] for e in d["ClusterConfiguration"]["etcd"]["external"]["endpoints"]} == etcd_ips
    assert d["ClusterConfiguration"]["networking"]["podSubnet"] == "192.168.0.0/16"
    assert d["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "10.42.9.1"


def test_control_planes_join_one_at_a_time_with_the_certificate_key(run):
    join = run.named("prod-cp-sbg-1-kubeadm-join")
    assert deps(run, join) >= {"prod-cp-sbg-1-join-credentials", "prod-cp-sbg-1-k8s-packages", "prod-cp-sbg-1-api-lb"}
    d = docs(join.script("create"))["JoinConfiguration"]
    assert d["controlPlane"]["certificateKey"] == CERTIFICATE_KEY_PLACEHOLDER
    assert d["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "10.42.241.1"
    assert d["discovery"]["bootstrapToken"]["caCertHashes"] == [fake_ca_cert_hash("prod-cp-paris-1-kubeadm-init").strip()]
    assert param(join.script("create"), "ROLE") == "control-plane"
    # Its credentials step uploads the control-plane certificates.
    credentials = run.named("prod-cp-sbg-1-join-credentials")
    assert param(credentials.script("create"), "ROLE") == "control-plane"
    assert "kubeadm init phase upload-certs --upload-certs" in param(credentials.script("create"), "REFRESH_SCRIPT")
    # Every joiner, and only the joiners, has its own credentials step.
    assert {r.name for r in run.resources if r.name.endswith("-join-credentials")} == {
        f"prod-{n}-join-credentials" for n in CPS[1:] + WORKERS}
    assert "prod-cp-paris-1-kubeadm-init" in deps(run, credentials)


def test_workers_depend_on_the_first_control_plane_only(run):
    others = {f"prod-{n}-kubeadm-join" for n in CPS[1:] + WORKERS} | {f"prod-{n}-member" for n in CPS[1:] + WORKERS}
    for worker in WORKERS:
        join = run.named(f"prod-{worker}-kubeadm-join")
        d = deps(run, join)
        assert d >= {f"prod-{worker}-join-credentials", f"prod-{worker}-k8s-packages", f"prod-{worker}-api-lb"}
        assert not d & others
        assert not d & ({f"prod-{n}-join-credentials" for n in CPS[1:] + WORKERS} - {f"prod-{worker}-join-credentials"})
        assert not d & etcd_ready_names(run)
        doc = docs(join.script("create"))["JoinConfiguration"]
        assert "controlPlane" not in doc
        assert doc["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "127.0.0.1:7445"


# -- join credentials: valid whenever a join runs ------------------------------

def test_each_join_refreshes_its_own_credentials_on_the_first_control_plane_right_before_it(run):
    first = run.named("prod-cp-paris-1-kubeadm-init").inputs["connection"]["host"]
    for node in CPS[1:] + WORKERS:
        credentials = run.named(f"prod-{node}-join-credentials")
        join = run.named(f"prod-{node}-kubeadm-join")
        assert credentials.inputs["connection"]["host"] == first
        assert credentials.name in deps(run, join)
        # Every step the join waits for, its credentials step waits for too:
        # it runs last, so the join starts with freshly refreshed credentials.
        extra = deps(run, join) - deps(run, credentials) - {credentials.name}
        assert not [d for d in extra if run.named(d).type == "command:remote:Command"], extra
        mark = credentials.script("create")
        assert param(mark, "STEP") == "mark" and param(mark, "NODE_NAME") == node
        assert param(mark, "ROLE") == ("control-plane" if node in CPS else "worker")
        assert param(mark, "STATE_DIR") == "/etc/kubernetes/sovereign-joins"
        assert param(param(mark, "REFRESH_SCRIPT"), "STATE_DIR") == "/etc/kubernetes/sovereign-joins"
        assert param(param(mark, "REFRESH_SCRIPT"), "TOKEN_TTL_SECONDS") == "7200"
        # A trigger change updates it (the mark again); it is never replaced.
        assert credentials.script("update") == mark
        forget = credentials.script("delete")
        assert param(forget, "STEP") == "forget" and param(forget, "NODE_NAME") == node


def test_credentials_run_again_whenever_their_join_does(run):
    """A new join script (here: a label of gpu-paris-1) re-runs the join;
    the same change re-runs its credentials step first, as an update (a
    trigger would replace it), and leaves the other joiners alone."""
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-paris"]["labels"] = {"sovereign.cloud/team": "data"}
    after = run_spec(spec, stack="prod")
    for node in CPS[1:] + WORKERS:
        old, new = run.named(f"prod-{node}-join-credentials"), after.named(f"prod-{node}-join-credentials")
        join_changed = (run.named(f"prod-{node}-kubeadm-join").inputs["create"]
                        != after.named(f"prod-{node}-kubeadm-join").inputs["create"])
        assert join_changed == (node == "gpu-paris-1"), node
        assert (old.inputs["create"] != new.inputs["create"]) == join_changed, node
        assert old.inputs["update"] == old.inputs["create"] and new.inputs["update"] == new.inputs["create"]
        assert not old.inputs.get("triggers") and not new.inputs.get("triggers")
        # The script itself is the same: only its re-run argument moved.
        assert old.script("create") == new.script("create")


def test_the_member_clears_the_pending_join_after_every_credentials_run(run, monkeypatch):
    from stacks.plan.fakes.registry import FAKE_STDOUT

    for node in CPS[1:] + WORKERS:
        credentials = run.named(f"prod-{node}-join-credentials")
        member = run.named(f"prod-{node}-member")
        assert f"prod-{node}-kubeadm-join" in deps(run, member)
        assert credentials.outputs["stdout"].startswith(f"prod-{node}: pending since")
        assert credentials.name in deps(run, member)
        # Updated, never replaced: replacing a member deletes it (removes the node).
        assert member.script("update") == member.script("create") and not member.inputs.get("triggers")
        assert param(member.script("create"), "NODE_NAME") == node
        assert param(member.script("create"), "STATE_DIR") == "/etc/kubernetes/sovereign-joins"
    # The credentials print a new time at every run: the member then runs
    # again (an update), and nothing else about it changes.
    original = FAKE_STDOUT["-join-credentials"]
    monkeypatch.setitem(FAKE_STDOUT, "-join-credentials", lambda name: original(name).replace("plan time", "later"))
    again = run_spec(example_spec("prod"), stack="prod")
    for node in CPS[1:] + WORKERS:
        old, new = run.named(f"prod-{node}-member"), again.named(f"prod-{node}-member")
        assert old.inputs["create"] != new.inputs["create"] and old.script("create") == new.script("create")
        assert {k for k in old.inputs if old.inputs[k] != new.inputs.get(k)} == {"create", "update"}


def test_labels_and_taints_of_prod_nodes(run):
    def registration(name):
        cmd = run.named(f"prod-{name}-kubeadm-join") if name != "cp-paris-1" else run.named("prod-cp-paris-1-kubeadm-init")
        d = docs(cmd.script("create"))
        return (d.get("JoinConfiguration") or d["InitConfiguration"])["nodeRegistration"]

    def labels(reg):
        value = next(a["value"] for a in reg["kubeletExtraArgs"] if a["name"] == "node-labels")
        return dict(item.split("=", 1) for item in value.split(","))

    gpu = registration("gpu-houston-1")
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    # Rented from TensorDock (onPrem: false): an existing host, not on-prem.
    assert "sovereign.cloud/on-prem" not in labels(gpu)
    assert labels(gpu).items() >= {"sovereign.cloud/gpu": "true",
                           "sovereign.cloud/site": "tensordoc-houston", "topology.kubernetes.io/region": "houston",
                           "topology.kubernetes.io/zone": "houston", "sovereign.cloud/provider": "existing"}.items()
    assert labels(registration("gpu-gra-1"))["topology.kubernetes.io/zone"] == "GRA11"
    onprem = registration("onprem-paris-1")
    assert onprem["taints"] == [] and labels(onprem)["sovereign.cloud/on-prem"] == "true"
    for cp in CPS:
        assert registration(cp)["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    nodes = {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}
    for name in CPS + WORKERS:
        assert {"name": "node-ip", "value": nodes[name]} in registration(name)["kubeletExtraArgs"]


def test_etcd_nodes_are_not_kubernetes_nodes(run):
    for name in ETCD_NODES:
        for suffix in ("-api-lb", "-k8s-packages", "-kubeadm-join", "-member"):
            with pytest.raises(KeyError):
                run.named(f"prod-{name}{suffix}")


def test_packages_are_pinned_and_containerd_uses_systemd_cgroups(run):
    script = run.named("prod-gpu-gra-1-k8s-packages").script("create")
    assert param(script, "K8S_VERSION") == "1.31.4" and param(script, "K8S_MINOR") == "v1.31"
    assert "https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/" in script
    assert "SystemdCgroup = true" in script and "apt-mark hold kubelet kubeadm kubectl" in script


def test_tokens_and_keys_are_secrets_in_the_right_formats(run):
    stdin = run.named("prod-cp-sbg-1-kubeadm-join").inputs["stdin"]
    values = {k: base64.b64decode(v).decode() for k, v in (line.split("=", 1) for line in stdin.splitlines())}
    assert BOOTSTRAP_TOKEN.match(values["BOOTSTRAP_TOKEN"])
    assert CERTIFICATE_KEY.match(values["CERTIFICATE_KEY"])
    assert yaml.safe_load(values["ENCRYPTION_CONFIG"])["kind"] == "EncryptionConfiguration"
    assert {"ETCD_CA", "ETCD_CERT", "ETCD_KEY"} <= set(values)
    worker_stdin = run.named("prod-gpu-paris-1-kubeadm-join").inputs["stdin"]
    assert [line.split("=", 1)[0] for line in worker_stdin.splitlines()] == ["BOOTSTRAP_TOKEN"]
    credentials = [f"prod-{n}-join-credentials" for n in CPS[1:] + WORKERS]
    for name in ["prod-cp-paris-1-kubeadm-init", *credentials] + [f"prod-{n}-kubeadm-join" for n in CPS[1:] + WORKERS]:
        cmd = run.named(name)
        assert "stdin" in cmd.secret_paths
        assert TOKEN_PLACEHOLDER in cmd.script("create") or name in credentials
    for name in credentials:
        stdin = run.named(name).inputs["stdin"]
        assert [line.split("=", 1)[0] for line in stdin.splitlines()] == ["BOOTSTRAP_TOKEN"]
    for secret in (values["BOOTSTRAP_TOKEN"], values["CERTIFICATE_KEY"], values["ETCD_KEY"]):
        assert leaks(run, secret) == []
        assert secret not in plain_text(run)


def test_removal_paths(run):
    member = run.named("prod-cp-sbg-1-member")
    delete = member.script("delete")
    assert param(delete, "ROLE") == "control-plane" and param(delete, "STACKED_ETCD") == "false"
    assert "it is the last Ready control plane" in delete
    assert "prod-cp-sbg-1-kubeadm-join" in deps(run, member)
    assert "kubeadm reset --force" in run.named("prod-cp-sbg-1-kubeadm-join").script("delete")
    assert param(run.named("prod-gpu-gra-1-member").script("delete"), "ROLE") == "worker"
    # The first control plane has no member command: its reset leaves first.
    leave = param(run.named("prod-cp-paris-1-kubeadm-init").script("delete"), "LEAVE_SCRIPT")
    assert param(leave, "SELF") == "true" and param(leave, "NODE_NAME") == "cp-paris-1"
    assert param(run.named("prod-cp-sbg-1-kubeadm-join").script("delete"), "LEAVE_SCRIPT") == ""


def test_kubeconfig_comes_from_the_first_control_plane(run):
    cmd = run.named("prod-kubeconfig")
    assert param(cmd.script("create"), "KUBECONFIG_PATH") == "/etc/kubernetes/admin.conf"
    assert "prod-cp-paris-1-kubeadm-init" in deps(run, cmd)
    assert "kubeconfig" in run.secret_outputs


def test_stacked_etcd_variant():
    run = run_spec(stacked_prod_spec(), stack="prod")
    init = run.named("prod-cp-paris-1-kubeadm-init")
    assert "local" in docs(init.script("create"))["ClusterConfiguration"]["etcd"]
    assert param(init.script("create"), "EXTERNAL_ETCD") == "false"
    # Control planes join one after another, each with credentials refreshed
    # when its turn comes.
    assert "prod-cp-sbg-1-member" in deps(run, run.named("prod-cp-fsn-1-kubeadm-join"))
    assert "prod-cp-sbg-1-member" in deps(run, run.named("prod-cp-fsn-1-join-credentials"))
    delete = run.named("prod-cp-fsn-1-member").script("delete")
    assert param(delete, "STACKED_ETCD") == "true"
    assert delete.index("quorum needs") < delete.index("member/remove") < delete.index("kubectl drain")
    stdin = run.named("prod-cp-sbg-1-kubeadm-join").inputs["stdin"]
    assert "ETCD_KEY" not in {line.split("=", 1)[0] for line in stdin.splitlines()}


def test_kubeadm_init_prints_neither_token_nor_certificate_key():
    """kubeadm init prints the join commands (token, certificate key) unless
    told not to; its stderr would land in Pulumi state and the console."""
    with additional_secret_outputs() as seen:
        run = run_spec(example_spec("prod"), stack="prod")
    script = run.named("prod-cp-paris-1-kubeadm-init").script("create")
    init_line = next(line for line in script.splitlines() if line.startswith("kubeadm init "))
    continued = script[script.index(init_line):].split("\n", 2)
    assert "--skip-token-print" in " ".join(continued[:2])
    assert "--skip-certificate-key-print" in " ".join(continued[:2])
    assert "stderr" in seen["prod-cp-paris-1-kubeadm-init"]


def test_dedicated_etcd_takes_snapshots_to_s3_and_installs_air_gapped():
    spec = example_spec("prod")
    spec["kubernetes"] = {
        "etcdSnapshots": {"schedule": "15 */4 * * *", "s3": {"endpoint": "s3.gra.io.cloud.ovh.net", "bucket": "prod-etcd"}},
        "airgap": {"enabled": True, "artifactsDir": "/srv/airgap"},
    }
    # prod's database backups need their own keys (stacks/program.py checks them first).
    run = run_spec_with_secrets(spec, stack="prod", etcdS3AccessKey="AKIAPRODETCD",
                                etcdS3SecretKey="s3-secret-of-prod-etcd",
                                dataBackupS3AccessKey="AKIAPRODDATA", dataBackupS3SecretKey="s3-secret-of-prod-data")
    for node in ETCD_NODES:
        member = run.named(f"prod-etcd-{node}-etcd").script("create")
        assert param(member, "AIRGAP") == "true" and param(member, "ARTIFACTS_DIR") == "/srv/airgap"
        snapshots = run.named(f"prod-etcd-{node}-etcd-snapshots")
        assert param(snapshots.script("create"), "INTERVAL_SECONDS") == str(4 * 3600)
        assert param(snapshots.script("create"), "S3") == "true"
        assert "stdin" in snapshots.secret_paths
        keys = {k: base64.b64decode(v).decode() for k, v in
                (line.split("=", 1) for line in snapshots.inputs["stdin"].splitlines())}
        assert keys == {"S3_ACCESS_KEY": "AKIAPRODETCD", "S3_SECRET_KEY": "s3-secret-of-prod-etcd"}
        assert f"prod-etcd-{node}-etcd" in deps(run, snapshots)
    assert leaks(run, "s3-secret-of-prod-etcd") == []
