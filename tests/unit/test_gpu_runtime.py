"""GPU nodes' container runtime (seed 000): the ``gpu-runtime`` node command
before the node joins (kubeadm and K3s), who owns the toolkit per
``addons.gpu.mode``, the platform's RuntimeClass ``nvidia`` and the device
plugin using it, and the node script itself run with stub tools."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from components.cluster.common.gpu_runtime import TOOLKIT_VERSION, host_duties
from components.remote.script import render_script
from components.spec import parse_cluster_spec
from tests.stack_runner import example_spec, run_spec, host_key_for
from tests.unit.platform_support import releases, run_platform, written_objects
from tests.unit.test_schema_platform_objects import validate_object

from .cluster_support import deps, param, transitive_deps

SCRIPT = Path(__file__).resolve().parents[2] / "components" / "cluster" / "common" / "scripts" / "gpu-runtime.sh"
GPU_WORKERS = ["gpu-paris-1", "gpu-gra-1", "gpu-houston-1"]
NO_GPU = ["cp-paris-1", "cp-sbg-1", "onprem-paris-1", "etcd-gra-1"]
RUNTIME_CLASS = "kubernetes:node.k8s.io/v1:RuntimeClass"
RUNTIME_CLASS_PATCH = "kubernetes:node.k8s.io/v1:RuntimeClassPatch"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}


def gpu_commands(run) -> dict[str, object]:
    return {r.name: r for r in run.of_type("command:remote:Command") if r.name.endswith("-gpu-runtime")}


def prod_with(**gpu) -> dict:
    spec = example_spec("prod")
    spec["addons"]["gpu"].update(copy.deepcopy(gpu))
    return spec


def k3s_with_gpu(**gpu) -> dict:
    """budget (K3s) plus one existing GPU worker, the GPU add-on on."""
    spec = example_spec("budget")
    spec["nodeGroups"]["gpu"] = {
        "provider": "existing", "region": "lab", "roles": ["worker"], "sshUser": "admin",
        "gpus": [{"name": "nvidia.com/GA102GL_A40", "count": 2}],
        "hosts": [{"name": "gpu-1", "address": "192.0.2.20", "hostKey": host_key_for("gpu-1")}],
    }
    spec.setdefault("addons", {})["gpu"] = {"enabled": True, **copy.deepcopy(gpu)}
    return spec


@pytest.fixture(scope="module")
def prod():
    return run_spec(example_spec("prod"), stack="prod")


@pytest.fixture(scope="module")
def k3s():
    return run_spec(k3s_with_gpu(), stack="budget")


# -- the node command in the dependency graph ------------------------------------

def test_kubeadm_gpu_workers_prepare_the_runtime_before_joining(prod):
    assert set(gpu_commands(prod)) == {f"prod-{n}-gpu-runtime" for n in GPU_WORKERS}
    for node in GPU_WORKERS:
        gpu = prod.named(f"prod-{node}-gpu-runtime")
        # containerd is installed first; the join waits for the runtime.
        assert f"prod-{node}-k8s-packages" in deps(prod, gpu)
        assert f"prod-{node}-gpu-runtime" in deps(prod, prod.named(f"prod-{node}-kubeadm-join"))
        assert gpu.parent_urn == prod.named("prod").urn
        script = gpu.script("create")
        assert gpu.script("update") == script
        assert param(script, "RUNTIME") == "containerd"
        assert param(script, "CHECK_DRIVER") == "true" and param(script, "INSTALL_TOOLKIT") == "true"
        assert param(script, "TOOLKIT_VERSION") == TOOLKIT_VERSION
        assert param(script, "EXPECTED_GPUS") == "1"
        assert param(script, "AIRGAP") == "false"
        assert script == render_script(SCRIPT, {
            "RUNTIME": "containerd", "CHECK_DRIVER": True, "INSTALL_TOOLKIT": True, "TOOLKIT_VERSION": TOOLKIT_VERSION,
            "EXPECTED_GPUS": 1, "AIRGAP": False, "ARTIFACTS_DIR": "/var/lib/sovereign/airgap"})


def test_kubeadm_runtime_is_set_again_whenever_containerd_config_is_rewritten(prod):
    # kubeadm-packages.sh rewrites config.toml (without the nvidia runtime)
    # whenever it runs: a change of its script runs the GPU step again, as
    # an update of the same script (never a trigger, i.e. a replacement).
    spec = example_spec("prod")
    spec["version"] = "1.31.5"  # a new packages script, the same GPU script
    after = run_spec(spec, stack="prod")
    for node in GPU_WORKERS:
        assert (prod.named(f"prod-{node}-k8s-packages").script("create")
                != after.named(f"prod-{node}-k8s-packages").script("create"))
        old, new = prod.named(f"prod-{node}-gpu-runtime"), after.named(f"prod-{node}-gpu-runtime")
        assert old.script("create") == new.script("create")
        assert old.inputs["create"] != new.inputs["create"] and new.inputs["update"] == new.inputs["create"]
        assert not old.inputs.get("triggers") and not new.inputs.get("triggers")


def test_nodes_without_gpus_have_no_gpu_command_and_wait_for_none(prod):
    for node in NO_GPU:
        assert f"prod-{node}-gpu-runtime" not in {r.name for r in prod.resources}
    for node in ["cp-sbg-1", "onprem-paris-1"]:
        assert not any(d.endswith("-gpu-runtime") for d in transitive_deps(prod, prod.named(f"prod-{node}-kubeadm-join")))
    assert not any(d.endswith("-gpu-runtime") for d in deps(prod, prod.named("prod-cp-paris-1-kubeadm-init")))


def test_k3s_gpu_agent_gets_the_toolkit_before_k3s_starts(k3s):
    assert set(gpu_commands(k3s)) == {"budget-gpu-1-gpu-runtime"}
    gpu = k3s.named("budget-gpu-1-gpu-runtime")
    assert "budget-mesh-gpu-1-wg-apply" in deps(k3s, gpu)
    agent = k3s.named("budget-gpu-1-k3s-agent")
    assert "budget-gpu-1-gpu-runtime" in deps(k3s, agent)
    script = gpu.script("create")
    # K3s writes its own containerd config (nvidia runtime auto-detected at
    # start): nothing to rewrite it, so nothing to re-run on.
    assert param(script, "RUNTIME") == "k3s" and not gpu.inputs.get("triggers")
    assert param(script, "EXPECTED_GPUS") == "2"
    for server in ["vps-1", "vps-2", "vps-3"]:
        assert not any(d.endswith("-gpu-runtime") for d in deps(k3s, k3s.named(f"budget-{server}-k3s-server")))


def test_k3s_gpu_server_waits_for_its_runtime_too():
    spec = k3s_with_gpu()
    spec["nodeGroups"]["gpu"]["roles"] = ["control-plane", "worker"]
    spec["nodeGroups"]["vps"]["count"] = 2  # three servers: two VPS, the GPU box
    spec["addons"]["vault"] = {"enabled": False}  # HA Vault wants 3 untainted workers
    run = run_spec(spec, stack="budget")
    assert "budget-gpu-1-gpu-runtime" in deps(run, run.named("budget-gpu-1-k3s-server"))


def test_airgapped_gpu_nodes_take_the_toolkit_from_the_artifacts():
    spec = example_spec("prod")
    spec["kubernetes"]["airgap"] = {"enabled": True, "artifactsDir": "/srv/airgap"}
    script = run_spec(spec, stack="prod").named("prod-gpu-gra-1-gpu-runtime").script("create")
    assert param(script, "AIRGAP") == "true" and param(script, "ARTIFACTS_DIR") == "/srv/airgap"


def test_airgap_layout_documents_the_nvidia_packages():
    from components.spec.kubernetes import AirgapSpec

    assert "``nvidia/*.deb``" in AirgapSpec.__doc__


def test_deploy_time_model_knows_the_gpu_command(prod):
    from benchmarks.critical_path import BY_SUFFIX

    assert all(name.endswith(tuple(BY_SUFFIX)) for name in gpu_commands(prod))


# -- who owns the toolkit, per mode ------------------------------------------------

@pytest.mark.parametrize(("gpu", "driver", "toolkit"), [
    ({"enabled": True, "mode": "device-plugin"}, True, True),
    ({"enabled": False}, True, True),  # hosts prepared for whatever the user runs
    ({"enabled": True, "mode": "operator"}, False, False),
    ({"enabled": True, "mode": "operator", "values": {"driver": {"enabled": False}}}, True, False),
    ({"enabled": True, "mode": "operator", "values": {"toolkit": {"enabled": False}}}, False, True),
])
def test_host_duties_per_mode(gpu, driver, toolkit):
    duties = host_duties(parse_cluster_spec(prod_with(**gpu)))
    assert (duties.check_driver, duties.install_toolkit) == (driver, toolkit)


def test_operator_mode_owns_driver_and_toolkit_no_node_command():
    run = run_spec(prod_with(mode="operator"), stack="prod")
    assert gpu_commands(run) == {}
    assert not any(d.endswith("-gpu-runtime") for d in deps(run, run.named("prod-gpu-paris-1-kubeadm-join")))


def test_operator_with_the_host_driver_only_checks_it():
    run = run_spec(prod_with(mode="operator", values={"driver": {"enabled": False}}), stack="prod")
    assert set(gpu_commands(run)) == {f"prod-{n}-gpu-runtime" for n in GPU_WORKERS}
    script = run.named("prod-gpu-paris-1-gpu-runtime").script("create")
    assert param(script, "CHECK_DRIVER") == "true" and param(script, "INSTALL_TOOLKIT") == "false"
    assert "prod-gpu-paris-1-gpu-runtime" in deps(run, run.named("prod-gpu-paris-1-kubeadm-join"))


# -- the platform: RuntimeClass and the device plugin ------------------------------

@pytest.fixture(scope="module")
def platform_prod():
    return run_platform(example_spec("prod"))


def test_runtime_class_nvidia_keeps_its_pods_on_gpu_nodes(platform_prod):
    (rc,) = platform_prod.of_type(RUNTIME_CLASS)
    assert rc.inputs["metadata"]["name"] == "nvidia" and rc.inputs["handler"] == "nvidia"
    assert rc.inputs["scheduling"] == {"nodeSelector": {"sovereign.cloud/gpu": "true"},
                                       "tolerations": [GPU_TOLERATION]}
    obj = next(o for r, o in written_objects(platform_prod) if r is rc)
    validate_object(obj, "1.31.4")


def test_runtime_class_validation_catches_a_missing_handler(platform_prod):
    obj = next(o for r, o in written_objects(platform_prod) if r.type == RUNTIME_CLASS)
    del obj["handler"]
    with pytest.raises(kubernetes_validate.ValidationError, match="handler"):
        validate_object(obj, "1.31.4")


def test_device_plugin_runs_with_the_nvidia_runtime_class_after_it_exists(platform_prod):
    plugin = releases(platform_prod)["nvidia-device-plugin"]
    assert plugin.inputs["values"]["runtimeClassName"] == "nvidia"
    (rc,) = platform_prod.of_type(RUNTIME_CLASS)
    assert rc.urn in plugin.dependencies


def test_escape_hatch_still_wins_over_the_runtime_class_name():
    run = run_platform(prod_with(values={"runtimeClassName": "nvidia-cdi"}))
    assert releases(run)["nvidia-device-plugin"].inputs["values"]["runtimeClassName"] == "nvidia-cdi"


def test_k3s_runtime_class_is_k3s_own_patched_never_created():
    run = run_platform(k3s_with_gpu())
    assert run.of_type(RUNTIME_CLASS) == []
    (patch,) = run.of_type(RUNTIME_CLASS_PATCH)
    assert patch.inputs["metadata"]["name"] == "nvidia" and patch.inputs["handler"] == "nvidia"
    assert patch.inputs["scheduling"]["nodeSelector"] == {"sovereign.cloud/gpu": "true"}
    assert patch.inputs["scheduling"]["tolerations"] == [GPU_TOLERATION]
    validate_object(next(o for r, o in written_objects(run) if r is patch), "1.31.4")
    assert releases(run)["nvidia-device-plugin"].inputs["values"]["runtimeClassName"] == "nvidia"


def test_operator_mode_the_operator_owns_toolkit_and_runtime_class():
    run = run_platform(prod_with(mode="operator"))
    assert run.of_type(RUNTIME_CLASS) == [] and run.of_type(RUNTIME_CLASS_PATCH) == []
    values = releases(run)["gpu-operator"].inputs["values"]
    assert values["toolkit"] == {"enabled": True}  # kubeadm: the operator's default containerd paths


def test_operator_on_k3s_points_its_toolkit_at_k3s_containerd():
    values = releases(run_platform(k3s_with_gpu(mode="operator")))["gpu-operator"].inputs["values"]
    assert values["toolkit"]["enabled"] is True
    assert {e["name"]: e["value"] for e in values["toolkit"]["env"]} == {
        "CONTAINERD_CONFIG": "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
        "CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock",
        "RUNTIME_CONFIG_SOURCE": "file",
    }


# -- the node script, with stub tools ----------------------------------------------

STUBS = {
    "nvidia-smi": r"""#!/usr/bin/env bash
echo "nvidia-smi $*" >> "$FAKE_LOG"
if [ -n "${FAKE_NO_DRIVER:-}" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9
fi
for i in $(seq 0 $((${FAKE_GPUS:-1} - 1))); do echo "GPU $i: NVIDIA L4 (UUID: GPU-$i)"; done
""",
    "dpkg-query": r"""#!/usr/bin/env bash
pkg="${*: -1}"
[ -f "$FAKE_DIR/pkg/$pkg" ] || exit 1
printf 'installed %s' "$(cat "$FAKE_DIR/pkg/$pkg")"
""",
    "apt-get": r"""#!/usr/bin/env bash
echo "apt-get $*" >> "$FAKE_LOG"
case " $* " in *" install "*) ;; *) exit 0 ;; esac
mkdir -p "$FAKE_DIR/pkg"
for arg in "$@"; do
  case "$arg" in
    *=*) [ "${arg#-}" = "$arg" ] && printf '%s' "${arg#*=}" > "$FAKE_DIR/pkg/${arg%%=*}" ;;
    *.deb) for p in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do
             printf '%s' "$FAKE_DEB_VERSION" > "$FAKE_DIR/pkg/$p"; done ;;
  esac
done
mkdir -p "$(dirname "$RUNTIME_BIN")"; touch "$RUNTIME_BIN"; chmod +x "$RUNTIME_BIN"
""",
    "apt-mark": """#!/usr/bin/env bash\necho "apt-mark $*" >> "$FAKE_LOG"\n""",
    "curl": """#!/usr/bin/env bash\necho "curl $*" >> "$FAKE_LOG"\necho KEY\n""",
    "gpg": r"""#!/usr/bin/env bash
echo "gpg $*" >> "$FAKE_LOG"
cat > /dev/null
while [ $# -gt 0 ]; do [ "$1" = "-o" ] && { echo key > "$2"; }; shift; done
""",
    "nvidia-ctk": r"""#!/usr/bin/env bash
echo "nvidia-ctk $*" >> "$FAKE_LOG"
for arg in "$@"; do case "$arg" in --config=*) config="${arg#--config=}" ;; esac; done
grep -q 'runtimes.nvidia' "$config" || printf '[plugins.cri.containerd.runtimes.nvidia]\n' >> "$config"
echo "INFO Wrote updated config to $config" >&2
""",
    "systemctl": r"""#!/usr/bin/env bash
echo "systemctl $*" >> "$FAKE_LOG"
if [ "$1" = "is-active" ]; then
  for unit in ${FAKE_ACTIVE:-}; do [ "${*: -1}" = "$unit" ] && exit 0; done
  exit 3
fi
""",
}


class Node:
    """A fake GPU host: stub tools on PATH, the script's locations in a temp dir."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for name, text in STUBS.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.log = tmp / "log"
        self.containerd = tmp / "containerd" / "config.toml"
        self.containerd.parent.mkdir()
        self.containerd.write_text('version = 2\n[plugins.cri.containerd]\n  default_runtime_name = "runc"\n')
        self.k3s = tmp / "k3s"
        self.apt = tmp / "apt"
        self.runtime_bin = tmp / "usr-bin" / "nvidia-container-runtime"
        self.env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(self.log), "FAKE_DIR": str(tmp),
            "FAKE_DEB_VERSION": TOOLKIT_VERSION, "CONTAINERD_CONFIG": str(self.containerd),
            "K3S_DATA": str(self.k3s), "APT_DIR": str(self.apt), "RUNTIME_BIN": str(self.runtime_bin),
        }

    def install(self, version: str) -> None:
        (self.tmp / "pkg").mkdir(exist_ok=True)
        for p in ("nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools",
                  "libnvidia-container1"):
            (self.tmp / "pkg" / p).write_text(version)
        self.runtime_bin.parent.mkdir(exist_ok=True)
        self.runtime_bin.touch()
        self.runtime_bin.chmod(0o755)

    def run(self, runtime="containerd", env: dict | None = None, **params) -> tuple[subprocess.CompletedProcess, str]:
        self.log.write_text("")
        script = render_script(SCRIPT, {"RUNTIME": runtime, "TOOLKIT_VERSION": TOOLKIT_VERSION, "EXPECTED_GPUS": 1,
                                        **params})
        out = subprocess.run(["bash", "-c", script], check=False, capture_output=True, text=True, timeout=60,
                             env={**os.environ, **self.env, **(env or {})})
        return out, self.log.read_text()


@pytest.fixture
def node(tmp_path):
    return Node(tmp_path)


def test_script_fails_clearly_without_a_driver_and_changes_nothing(node):
    out, log = node.run(env={"FAKE_NO_DRIVER": "1"})
    assert out.returncode == 1
    assert "no working NVIDIA driver on this node (nvidia-smi failed: NVIDIA-SMI has failed" in out.stderr
    assert "out of scope" in out.stderr and "addons.gpu.mode: operator" in out.stderr
    assert "apt-get" not in log and "systemctl" not in log


def test_script_installs_the_pinned_toolkit_and_configures_containerd_once(node):
    first, log = node.run()
    assert first.returncode == 0, first.stderr
    assert "curl -fsSL --retry 5 https://nvidia.github.io/libnvidia-container/gpgkey" in log
    assert (f"install -y -qq --allow-downgrades nvidia-container-toolkit={TOOLKIT_VERSION} "
            f"nvidia-container-toolkit-base={TOOLKIT_VERSION} libnvidia-container-tools={TOOLKIT_VERSION} "
            f"libnvidia-container1={TOOLKIT_VERSION}") in log
    assert "DPkg::Lock::Timeout=600" in log  # waits for the baseline's / api-lb's apt
    assert "apt-mark hold nvidia-container-toolkit" in log
    assert (node.apt / "sources.list.d" / "nvidia-container-toolkit.list").read_text() == (
        f"deb [signed-by={node.apt}/keyrings/nvidia-container-toolkit.gpg] "
        "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n")
    assert "nvidia-ctk runtime configure --runtime=containerd --config=" in log
    assert "runtimes.nvidia" in node.containerd.read_text()
    assert log.count("systemctl restart containerd") == 1
    assert first.stdout.strip() == (f"gpu-runtime: driver ok (1 GPU(s)); nvidia-container-toolkit {TOOLKIT_VERSION}; "
                                    "containerd runtime nvidia (changed: toolkit containerd)")

    config = node.containerd.read_text()
    second, log = node.run()
    assert second.returncode == 0, second.stderr
    assert "apt-get" not in log and "curl" not in log and "restart" not in log
    assert node.containerd.read_text() == config
    assert second.stdout.strip().endswith("(changed: none)")


def test_script_replaces_another_toolkit_version(node):
    node.install("1.16.2-1")
    out, log = node.run()
    assert out.returncode == 0, out.stderr
    assert f"nvidia-container-toolkit={TOOLKIT_VERSION}" in log
    assert "apt-mark unhold" in log
    assert "changed: toolkit" in out.stdout


def test_script_airgapped_installs_staged_packages_only(node):
    artifacts = node.tmp / "airgap"
    out, log = node.run(AIRGAP=True, ARTIFACTS_DIR=artifacts)
    assert out.returncode == 1
    assert f"air-gapped install: no packages in {artifacts}/nvidia" in out.stderr
    (artifacts / "nvidia").mkdir(parents=True)
    for name in ("nvidia-container-toolkit_1.17.8-1_amd64.deb", "libnvidia-container1_1.17.8-1_amd64.deb"):
        (artifacts / "nvidia" / name).touch()
    out, log = node.run(AIRGAP=True, ARTIFACTS_DIR=artifacts)
    assert out.returncode == 0, out.stderr
    assert f"--no-download {artifacts}/nvidia/libnvidia-container1_1.17.8-1_amd64.deb" in log
    assert "curl" not in log and "apt-get -o DPkg::Lock::Timeout=600 update" not in log


def test_script_airgapped_refuses_staged_packages_of_another_version(node):
    artifacts = node.tmp / "airgap"
    (artifacts / "nvidia").mkdir(parents=True)
    (artifacts / "nvidia" / "nvidia-container-toolkit_1.16.2-1_amd64.deb").touch()
    out, _ = node.run(AIRGAP=True, ARTIFACTS_DIR=artifacts, env={"FAKE_DEB_VERSION": "1.16.2-1"})
    assert out.returncode == 1 and f"nvidia-container-toolkit {TOOLKIT_VERSION} is not installed" in out.stderr


def test_script_on_k3s_leaves_containerd_to_k3s(node):
    out, log = node.run(runtime="k3s")
    assert out.returncode == 0, out.stderr
    assert "nvidia-ctk" not in log and "restart" not in log
    assert node.containerd.read_text().count("nvidia") == 0
    assert node.runtime_bin.exists()  # what K3s looks for when it starts
    assert out.stdout.strip().endswith("k3s runtime nvidia (changed: toolkit)")


def test_script_on_k3s_restarts_an_agent_that_started_without_the_runtime(node):
    generated = node.k3s / "agent" / "etc" / "containerd" / "config.toml"
    generated.parent.mkdir(parents=True)
    generated.write_text('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."runc"]\n')
    node.install(TOOLKIT_VERSION)
    out, log = node.run(runtime="k3s", env={"FAKE_ACTIVE": "k3s-agent"})
    assert out.returncode == 0, out.stderr
    assert "systemctl restart k3s-agent" in log and "changed: k3s-agent" in out.stdout
    # A server: never restarted by a script running on several at once.
    out, log = node.run(runtime="k3s", env={"FAKE_ACTIVE": "k3s"})
    assert out.returncode == 0 and "restart" not in log
    assert "restart it (systemctl restart k3s), one server at a time" in out.stderr
    # Once K3s has the runtime: nothing to do.
    generated.write_text(generated.read_text() + '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]\n')
    out, log = node.run(runtime="k3s", env={"FAKE_ACTIVE": "k3s-agent"})
    assert out.returncode == 0 and "restart" not in log and out.stdout.strip().endswith("(changed: none)")


def test_script_leaves_the_toolkit_to_the_operator(node):
    out, log = node.run(INSTALL_TOOLKIT=False)
    assert out.returncode == 0, out.stderr
    assert "apt-get" not in log and "nvidia-ctk" not in log
    assert out.stdout.strip() == "gpu-runtime: driver ok (1 GPU(s)) (changed: none)"
    out, log = node.run(INSTALL_TOOLKIT=False, CHECK_DRIVER=False)
    assert "nvidia-smi" not in log and "the GPU operator owns the driver and the toolkit" in out.stdout


def test_script_warns_when_fewer_gpus_than_the_spec(node):
    out, _ = node.run(EXPECTED_GPUS=2, INSTALL_TOOLKIT=False)
    assert out.returncode == 0
    assert "nvidia-smi lists 1 GPU(s), the spec gives this node 2" in out.stderr
