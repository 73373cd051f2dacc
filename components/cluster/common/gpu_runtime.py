"""The NVIDIA container runtime on GPU nodes (seed 000), before they join.

Who owns what, per ``addons.gpu.mode``:

* ``device-plugin`` (default)
  - NVIDIA driver: the host. Checked here (``nvidia-smi``), never installed:
    out of scope (the provider's GPU image, the distribution's packages).
  - nvidia-container-toolkit: this command, pinned to ``TOOLKIT_VERSION``,
    from NVIDIA's apt repository or, air-gapped, ``<artifactsDir>/nvidia/*.deb``.
  - containerd's ``nvidia`` runtime (beside runc, not the default): kubeadm,
    this command (``nvidia-ctk runtime configure``); K3s, K3s itself when it
    starts and finds ``/usr/bin/nvidia-container-runtime``.
  - RuntimeClass ``nvidia``: the platform (``components/platform/addons/gpu.py``);
    on K3s, K3s's own (its ``runtimes`` add-on), given scheduling by the platform.
* ``operator``: the GPU operator owns the driver, the toolkit (which
  configures containerd; K3s paths in gpu.py) and its RuntimeClass. Values
  ``driver.enabled: false`` / ``toolkit.enabled: false`` hand that part back
  to the host: this command then checks the driver / installs the toolkit.

The command runs on every node with GPUs whose host has a duty left (none
in operator mode with the chart's defaults: no command then), after
containerd is installed and before the node's kubeadm init/join or K3s
start: K3s adds the ``nvidia`` runtime only when it finds
nvidia-container-runtime at start, kubelets must see it at registration.
Deleting the command changes nothing on the host (a running runtime is
never pulled from under GPU pods).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

SCRIPTS = Path(__file__).parent / "scripts"

# nvidia-container-toolkit (and -base, libnvidia-container-tools,
# libnvidia-container1) from https://nvidia.github.io/libnvidia-container;
# the 1.17 series writes the runtime into the file given to
# ``nvidia-ctk runtime configure --config`` (1.18 moved to drop-in files:
# check gpu-runtime.sh when bumping). The GPU operator v25.3 ships 1.17 too.
TOOLKIT_VERSION = "1.17.8-1"


@dataclass(frozen=True)
class HostGpuDuties:
    """What the GPU nodes' hosts must provide themselves."""

    check_driver: bool
    install_toolkit: bool

    @property
    def any(self) -> bool:
        return self.check_driver or self.install_toolkit


def _operator_enables(values: dict, component: str) -> bool:
    """``<component>.enabled`` of the GPU operator's final values (the chart's default: true)."""
    section = values.get(component)
    return not isinstance(section, dict) or section.get("enabled", True) is not False


def host_duties(spec) -> HostGpuDuties:
    """The table above, from ``addons.gpu`` (mode and the ``values`` escape hatch).

    With the add-on disabled, GPU nodes are still prepared as for the device
    plugin: whatever the user runs on them needs the host runtime.
    """
    gpu = spec.addons.gpu
    if gpu.enabled and gpu.mode == "operator":
        return HostGpuDuties(check_driver=not _operator_enables(gpu.values, "driver"),
                             install_toolkit=not _operator_enables(gpu.values, "toolkit"))
    return HostGpuDuties(check_driver=True, install_toolkit=True)


def gpu_runtime_commands(
    name: str,
    nodes: list[Node],
    *,
    spec,
    runtime: Literal["containerd", "k3s"],
    after: dict[str, list[pulumi.Resource]],
    parent: pulumi.Resource,
    rerun_when: str | None = None,
) -> dict[str, command.remote.Command]:
    """One ``<name>-<node>-gpu-runtime`` command per node with GPUs, after ``after[node]``.

    ``rerun_when``: a value whose change must run the script again (kubeadm:
    the containerd packages script, which rewrites config.toml without the
    ``nvidia`` runtime whenever it runs).
    """
    duties = host_duties(spec)
    if not duties.any:
        return {}
    airgap = spec.kubernetes.airgap
    commands = {}
    for node in nodes:
        if node.gpus <= 0:
            continue
        script = render_script(SCRIPTS / "gpu-runtime.sh", {
            "RUNTIME": runtime,
            "CHECK_DRIVER": duties.check_driver,
            "INSTALL_TOOLKIT": duties.install_toolkit,
            "TOOLKIT_VERSION": TOOLKIT_VERSION,
            "EXPECTED_GPUS": node.gpus,
            "AIRGAP": airgap.enabled,
            "ARTIFACTS_DIR": airgap.artifacts_dir,
        })
        commands[node.name] = node_command(
            f"{name}-{node.name}-gpu-runtime",
            node.ssh,
            create=script,
            update=script,
            rerun_when=rerun_when,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after.get(node.name, [])),
        )
    return commands


def before_join(commands: dict[str, command.remote.Command], node: Node) -> list[pulumi.Resource]:
    """What ``node``'s init/join/start must wait for (nothing on a node without GPUs)."""
    return [commands[node.name]] if node.name in commands else []
