"""Plan one stack offline: validate its spec, run the program, report."""

from __future__ import annotations

from pathlib import Path

from components.cost import estimate_cost, format_cost_table, lines_from_node_groups
from components.spec import ClusterSpec, SpecError, catalog_for, parse_cluster_spec

from ..config import CLUSTER_KEY, PROJECT, SSH_PRIVATE_KEY, as_runtime_config, read_stack_file
from .fake_cloud import FakeCloud
from .report import PlanReport
from .runtime import ProgramRun, run_program

# The plan never sees a real private key; the program only needs a secret.
PLAN_SSH_KEY_PLACEHOLDER = "-----PLAN PLACEHOLDER, NOT A KEY-----"


def load_spec(stack_file: Path) -> tuple[ClusterSpec, object]:
    """The stack file's validated spec and its price catalog (raises SpecError with every issue)."""
    composed = composed_spec(read_stack_file(stack_file), stack_file.name)
    try:
        catalog = catalog_for(composed.data)
        return parse_cluster_spec(composed.data, catalog=catalog), catalog
    except SpecError as err:
        raise composed.explain(err) from None


def composed_spec(config: dict, stack_label: str):
    """The cluster object of stack-file ``config``: its base files
    (``clusterBase``) merged with its own ``cluster`` (stacks/environments.py)."""
    from ..environments import BASE_KEY, base_paths, compose

    def value(key: str):
        return config.get(f"{PROJECT}:{key}", config.get(key))

    return compose(value(CLUSTER_KEY), base_paths(value(BASE_KEY)), stack_label=stack_label)


def run_stack_file(stack: str, stack_file: Path, *, cloud: FakeCloud | None = None) -> ProgramRun:
    """Run the real program for a stack file under mocks."""
    return run_config(stack, read_stack_file(stack_file), cloud=cloud)


def run_config(stack: str, config: dict, *, cloud: FakeCloud | None = None, ssh_private_key: str | None = None) -> ProgramRun:
    """Run the real program with stack-file style ``config`` under mocks."""
    from ..program import main
    from .fleet_hub import record_hub_outputs

    cloud = cloud or FakeCloud()
    # A fleet spoke reads its hub's outputs: plan the hub first (stacks/plan/fleet_hub.py).
    record_hub_outputs(composed_spec(config, f"Pulumi.{stack}.yaml").data, cloud, run_config)
    values, secret_keys = as_runtime_config(config, {SSH_PRIVATE_KEY: ssh_private_key or PLAN_SSH_KEY_PLACEHOLDER})
    return run_program(main, project=PROJECT, stack=stack, config=values, secret_keys=secret_keys, cloud=cloud)


def _platform_requests(report: PlanReport, spec: ClusterSpec, catalog) -> None:
    """Summed requests of what the platform installs, per node group (worst node)."""
    from components.platform.sizing import format_requests, resources_per_node

    rows = resources_per_node(spec, catalog)
    report.extras["resources_per_node"] = {"profile": spec.addons.profile, "nodes": [r.to_dict() for r in rows]}
    # An upper bound: each Deployment's share is counted on every node it may
    # run on (OpenStack stacks also get the placed table below).
    report.sections.append((f"Platform requests per node (profile {spec.addons.profile}; upper bound: a Deployment "
                            "counted on every node it may run on)", format_requests(rows)))


def _openstack_memory(report: PlanReport, spec: ClusterSpec, catalog) -> None:
    """With OpenStack: every pod of the cluster placed node by node (components/openstack/memory.py)."""
    if not spec.openstack.enabled:
        return
    from components.openstack.memory import format_table
    from components.openstack.plan import memory_table

    table = memory_table(spec, catalog)
    report.extras["openstack_memory"] = {"profile": spec.addons.profile, "nodes": [r.to_dict() for r in table.rows],
                                         "unplaced": [{"workload": n, "memory_mib": m} for n, m in table.unplaced]}
    report.sections.append((f"Memory per node, every pod placed (OpenStack, profile {spec.addons.profile})",
                            format_table(table)))


def plan(stack: str, stack_file: Path, *, diagram: Path | None = None) -> PlanReport:
    """Validate, run the program under mocks, and add the cost (and picture)."""
    spec, catalog = load_spec(stack_file)
    report = PlanReport.from_run(stack, run_stack_file(stack, stack_file))
    cost = estimate_cost(lines_from_node_groups(spec.node_groups), catalog, max_age_days=spec.cost.stale_after_days)
    report.extras["cost"] = cost.to_dict()
    report.sections.append(("Monthly cost", format_cost_table(cost)))
    _platform_requests(report, spec, catalog)
    _openstack_memory(report, spec, catalog)
    if diagram is not None:
        from .diagram import render_topology

        latencies = [{"from": l.from_region, "to": l.to_region, "ms": l.ms} for l in spec.network.latencies]
        render_topology(report.nodes, latencies=latencies, path=diagram, catalog=catalog, title=f"{spec.name} ({stack})")
        report.extras["diagram"] = str(diagram)
    return report
