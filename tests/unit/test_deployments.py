"""Deployments in CI as code: the GitHub workflow and the deployments/ program.

(a) .github/workflows/pulumi.yml validates against the GitHub workflow schema
    that check-jsonschema vendors (offline), a broken copy does not, and every
    input given to pulumi/actions and pulumi/auth-actions is one they have;
(b) deployments/ under Pulumi mocks registers one DeploymentSettings and one
    DriftSchedule per environment stack (the Pulumi.<stack>.yaml files);
(c) an invalid config reports every problem at once, each naming its field.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from stacks.plan.runtime import run_program

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "pulumi.yml"
DEPLOYMENTS = ROOT / "deployments"
DEPLOYMENTS_PROJECT = "sovereign-cloud-deployments"
CONFIG_KEY = f"{DEPLOYMENTS_PROJECT}:deployments"

# Inputs of pulumi/actions v7, from its action.yml (github.com/pulumi/actions,
# action.yml at commit 4ddd4329226d5f7fdca0bc1fe3a0a659f4de25fe). v7.0.0
# (pulumi/actions#1407, "Release v7 with Node 24 support", closing #1403) changed
# the runtime to node24 and kept these inputs.
PULUMI_ACTIONS_V7_INPUTS = frozenset({
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
    "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token",
    "cloud-url", "secrets-provider", "parallel", "message", "config-map",
    "expect-no-changes", "diff", "replace", "target", "target-dependents",
    "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove",
    "edit-pr-comment", "color", "exclude-protected", "plan", "suppress-outputs",
    "suppress-progress", "always-include-summary",
})
# Inputs of pulumi/auth-actions v2, from its action.yml (github.com/pulumi/auth-actions,
# the node24 action.yml of v2; CHANGELOG 2.0.0: "Update action runtime to Node 24").
PULUMI_AUTH_ACTIONS_V2_INPUTS = frozenset({
    "organization", "requested-token-type", "scope", "token-expiration",
    "export-environment-variables", "cloud-url",
})
ACTION_INPUTS = {"pulumi/actions": ("v7", PULUMI_ACTIONS_V7_INPUTS),
                 "pulumi/auth-actions": ("v2", PULUMI_AUTH_ACTIONS_V2_INPUTS)}


def _yaml() -> YAML:
    # YAML 1.2 (as GitHub reads workflows): `on` stays the string "on".
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def load_workflow(text: str | None = None) -> dict:
    return _yaml().load(text if text is not None else WORKFLOW.read_text())


def dump(document: dict) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def stack_files() -> set[str]:
    """The environment stacks of the project: one Pulumi.<stack>.yaml each."""
    return {p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}


def pinned(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


# --- (a) the workflow ----------------------------------------------------------------


def schema_check(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema's CLI with its vendored GitHub workflow schema (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def test_the_schema_used_is_the_one_check_jsonschema_vendors():
    import check_jsonschema.builtin_schemas as builtin

    schema = json.loads((Path(builtin.__file__).parent / "vendor" / "github-workflows.json").read_text())
    assert schema["$id"] == "https://json.schemastore.org/github-workflow.json"


def test_workflow_validates_against_the_github_workflow_schema():
    result = schema_check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def _without_runs_on(wf):
    del wf["jobs"]["test"]["runs-on"]


def _misspelled_trigger(wf):
    wf["on"]["pull_requests"] = wf["on"].pop("pull_request")


def _step_with_uses_and_run(wf):
    wf["jobs"]["preview"]["steps"][0]["run"] = "echo both"


def _bad_permission(wf):
    wf["jobs"]["preview"]["permissions"]["id-token"] = "writ"


@pytest.mark.parametrize("breakage", [_without_runs_on, _misspelled_trigger, _step_with_uses_and_run, _bad_permission])
def test_a_broken_copy_of_the_workflow_fails_the_schema(tmp_path, breakage):
    workflow = load_workflow()
    broken = copy.deepcopy(workflow)
    breakage(broken)
    assert broken != workflow
    # The round trip alone keeps the workflow valid: the failure is the breakage.
    intact = tmp_path / "intact.yml"
    intact.write_text(dump(workflow))
    assert schema_check(intact).returncode == 0
    path = tmp_path / "broken.yml"
    path.write_text(dump(broken))
    result = schema_check(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors" in result.stdout


def steps(workflow: dict, job: str | None = None) -> list[tuple[str, int, dict]]:
    jobs = workflow["jobs"] if job is None else {job: workflow["jobs"][job]}
    return [(name, i, step) for name, body in jobs.items() for i, step in enumerate(body.get("steps", []))]


def action_input_problems(workflow: dict) -> list[str]:
    """Uses of pulumi/actions or pulumi/auth-actions at another major version,
    or with an input the action does not have."""
    problems = []
    for job, index, step in steps(workflow):
        action, _, version = step.get("uses", "").partition("@")
        if action not in ACTION_INPUTS:
            continue
        expected, inputs = ACTION_INPUTS[action]
        if version != expected:
            problems.append(f"{job} step {index}: {action}@{version}, expected @{expected}")
        problems += [f"{job} step {index}: {action} has no input {name!r}"
                     for name in sorted(set(step.get("with") or {}) - inputs)]
    return problems


def test_every_pulumi_action_input_is_one_the_action_has():
    workflow = load_workflow()
    assert action_input_problems(workflow) == []
    used = {step["uses"].partition("@")[0] for _, _, step in steps(workflow) if "uses" in step}
    assert {"pulumi/actions", "pulumi/auth-actions"} <= used


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda step: step["with"].update({"policy-packs": "policy"}), "has no input 'policy-packs'"),
    (lambda step: step["with"].update({"stack": "prod"}), "has no input 'stack'"),
    (lambda step: step.update({"uses": "pulumi/actions@v6"}), "expected @v7"),
])
def test_the_input_check_catches_an_input_the_action_does_not_have(edit, expected):
    workflow = load_workflow()
    preview = next(step for _, _, step in steps(workflow, "preview") if (step.get("with") or {}).get("command"))
    edit(preview)
    assert any(expected in problem for problem in action_input_problems(workflow))


def pulumi_command_steps(workflow: dict) -> list[tuple[str, dict]]:
    return [(job, step) for job, _, step in steps(workflow)
            if step.get("uses", "").startswith("pulumi/actions@") and (step.get("with") or {}).get("command")]


def test_pull_requests_preview_every_environment_stack_with_the_policy_pack():
    workflow = load_workflow()
    assert "pull_request" in workflow["on"]
    job = workflow["jobs"]["preview"]
    assert "github.event_name == 'pull_request'" in job["if"]
    assert set(job["strategy"]["matrix"]["stack"]) == stack_files() == {
        "prod", "budget", "dev", "minwaas", "fleet", "test", "staging", "staging-us"}
    [(_, preview)] = [(j, s) for j, s in pulumi_command_steps(workflow) if j == "preview"]
    inputs = preview["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"].endswith("/sovereign-cloud/${{ matrix.stack }}")
    assert inputs["work-dir"] == "."
    assert inputs["comment-on-pr"] is True
    assert inputs["policyPacks"] == "policy"
    assert job["permissions"]["pull-requests"] == "write"


def test_python_311_and_the_requirements_are_installed_before_the_preview():
    workflow = load_workflow()
    job_steps = workflow["jobs"]["preview"]["steps"]

    def index(predicate) -> int:
        found = [i for i, step in enumerate(job_steps) if predicate(step)]
        assert found, "step not found"
        return found[0]

    python = index(lambda s: s.get("uses", "").startswith("actions/setup-python@"))
    assert str(job_steps[python]["with"]["python-version"]) == "3.11"
    requirements = index(lambda s: "-r requirements.txt" in s.get("run", "") and "pip install" in s.get("run", ""))
    policy = index(lambda s: s.get("run") == "pulumi install" and s.get("working-directory") == "policy")
    preview = index(lambda s: (s.get("with") or {}).get("command") == "preview")
    assert python < requirements < preview
    assert policy < preview


def test_pulumi_cloud_credentials_come_from_oidc_not_a_stored_token():
    workflow = load_workflow()
    text = WORKFLOW.read_text()
    assert "PULUMI_ACCESS_TOKEN" not in text
    assert "secrets." not in text
    assert workflow["permissions"] == {"contents": "read"}
    for job, step in pulumi_command_steps(workflow):
        job_steps = workflow["jobs"][job]["steps"]
        auth = [i for i, s in enumerate(job_steps) if s.get("uses", "").startswith("pulumi/auth-actions@")]
        assert auth and auth[0] < job_steps.index(step), f"{job}: no OIDC login before the pulumi command"
        assert workflow["jobs"][job]["permissions"]["id-token"] == "write", job
        assert job_steps[auth[0]]["with"]["requested-token-type"].startswith("urn:pulumi:token-type:access_token:")


def test_environment_stacks_are_deployed_by_pulumi_deployments_not_by_the_workflow():
    workflow = load_workflow()
    ups = [(job, step["with"]) for job, step in pulumi_command_steps(workflow) if step["with"]["command"] != "preview"]
    # The only `up` is the deployments/ stack, on a push to main.
    assert [(job, inputs["command"], inputs["work-dir"]) for job, inputs in ups] == [("deployments-up", "up", "deployments")]
    assert ups[0][1]["stack-name"].endswith(f"/{DEPLOYMENTS_PROJECT}/deployments")
    assert "github.event_name == 'push'" in workflow["jobs"]["deployments-up"]["if"]
    assert "push" in workflow["on"]


def test_a_job_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "scripts/test" in readme and (ROOT / "scripts" / "test").is_file()
    workflow = load_workflow()
    runs = [step["run"] for _, _, step in steps(workflow, "test") if "run" in step]
    assert any(run.split()[0] == "scripts/test" for run in runs)
    # The README's machine: Debian with Python 3.11.
    assert workflow["jobs"]["test"]["container"]["image"] == "debian:bookworm"


def test_the_pulumi_cli_of_the_workflow_is_the_sdk_pin():
    sdk = pinned(ROOT / "requirements.txt")["pulumi"]
    versions = {step["with"].get("pulumi-version") for _, _, step in steps(load_workflow())
                if step.get("uses", "").startswith("pulumi/actions@")}
    assert versions == {sdk}


def test_deployments_requirements_are_the_pins_the_tests_use():
    pins = pinned(ROOT / "requirements.txt") | pinned(ROOT / "requirements-dev.txt")
    own = pinned(DEPLOYMENTS / "requirements.txt")
    assert set(own) == {"pulumi", "pulumi-pulumiservice", "pydantic"}
    assert {name: pins.get(name) for name in own} == own


# --- (b) the deployments program under mocks -----------------------------------------------


def example_config() -> dict:
    document = _yaml().load((DEPLOYMENTS / "Pulumi.deployments.yaml").read_text())
    return copy.deepcopy(document["config"][CONFIG_KEY])


def run_deployments(config: dict):
    from deployments import stack_deployments

    return run_program(stack_deployments.main, project=DEPLOYMENTS_PROJECT, stack="deployments",
                       config={CONFIG_KEY: json.dumps(config)}, secret_keys=[])


@pytest.fixture(scope="module")
def example_run():
    return run_deployments(example_config())


def by_stack(run, type_: str) -> dict:
    resources = run.of_type(type_)
    counts = Counter(r.inputs["stack"] for r in resources)
    assert all(n == 1 for n in counts.values()), counts
    return {r.inputs["stack"]: r for r in resources}


def test_one_deployment_settings_and_one_drift_schedule_per_environment_stack(example_run):
    settings = by_stack(example_run, "pulumiservice:index:DeploymentSettings")
    drift = by_stack(example_run, "pulumiservice:index:DriftSchedule")
    assert set(settings) == set(drift) == stack_files() == {
        "prod", "budget", "dev", "minwaas", "fleet", "test", "staging", "staging-us"}
    for resource in [*settings.values(), *drift.values()]:
        assert resource.inputs["organization"] == "sovereign-example"
        assert resource.inputs["project"] == "sovereign-cloud"


def test_settings_deploy_the_branch_and_preview_pull_requests(example_run):
    for stack, settings in by_stack(example_run, "pulumiservice:index:DeploymentSettings").items():
        inputs = settings.inputs
        assert inputs["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
        vcs = inputs["vcs"]
        assert vcs["provider"] == "github"
        assert vcs["repository"] == "sovereign-example/sovereign-cloud"
        assert vcs["previewPullRequests"] is True
        assert vcs["deployCommits"] is True
        assert vcs["pullRequestTemplate"] is False
        # The deprecated `github` block is not used next to `vcs`.
        assert "github" not in inputs, stack


def test_operations_install_the_pinned_requirements_first(example_run):
    for settings in by_stack(example_run, "pulumiservice:index:DeploymentSettings").values():
        context = settings.inputs["operationContext"]
        commands = context["preRunCommands"]
        assert commands[0] == "python3 -m venv .venv"
        assert any(".venv/bin/python -m pip install" in c and "-r requirements.txt" in c for c in commands[1:])
        # The pre-run commands install; the default install step would do it twice.
        assert context["options"]["skipInstallDependencies"] is True
        assert context["environmentVariables"]["PULUMI_SKIP_UPDATE_CHECK"] == "true"
        # Hetzner, OVH and Scaleway: no cloud OIDC the settings can configure.
        assert "oidc" not in context


def test_path_filters_are_the_files_a_stack_depends_on(example_run):
    settings = by_stack(example_run, "pulumiservice:index:DeploymentSettings")
    for stack, resource in settings.items():
        paths = resource.inputs["vcs"]["paths"]

        def triggers(changed: str) -> bool:
            return any(fnmatch.fnmatch(changed, pattern) for pattern in paths)

        assert triggers(f"Pulumi.{stack}.yaml")
        # An environment stack's base file is one of its files too.
        assert triggers("environments/base.yaml") == (stack in {"fleet", "test", "staging", "staging-us"}), stack
        for other in stack_files() - {stack}:
            assert not triggers(f"Pulumi.{other}.yaml"), (stack, other)
        for changed in ("Pulumi.yaml", "__main__.py", "requirements.txt", "components/mesh/mesh.py",
                        "stacks/program.py", "policy/__main__.py"):
            assert triggers(changed), (stack, changed)
        for unrelated in ("tests/unit/test_deployments.py", "README.md", "docs/upstream-conformance.md",
                          "benchmarks/x.py", "deployments/stack_deployments.py", ".github/workflows/pulumi.yml"):
            assert not triggers(unrelated), (stack, unrelated)
        # No filter names a file or directory the project does not have (policy/ may still be on its way).
        for pattern in paths:
            base = pattern.split("/**")[0]
            assert base == "policy" or (ROOT / base).exists(), pattern


def test_drift_schedules_follow_the_config_and_prod_is_not_auto_remediated(example_run):
    config = example_config()
    settings = by_stack(example_run, "pulumiservice:index:DeploymentSettings")
    for stack, schedule in by_stack(example_run, "pulumiservice:index:DriftSchedule").items():
        assert schedule.inputs["scheduleCron"] == config["stacks"][stack]["drift"]["cron"]
        assert schedule.inputs["autoRemediate"] is bool(config["stacks"][stack]["drift"].get("autoRemediate", False))
        # Drift runs use the stack's deployment settings: created after them.
        assert schedule.dependencies == [settings[stack].urn]
    assert by_stack(example_run, "pulumiservice:index:DriftSchedule")["prod"].inputs["autoRemediate"] is False
    assert config["stacks"]["prod"]["production"] is True


def test_auto_remediation_defaults_to_off():
    config = example_config()
    del config["stacks"]["budget"]["drift"]["autoRemediate"]
    drift = by_stack(run_deployments(config), "pulumiservice:index:DriftSchedule")
    assert drift["budget"].inputs["autoRemediate"] is False


def reviewed_exceptions() -> dict[str, dict]:
    """policy/<stack>.json of the environment stacks: their reviewed policy config."""
    return {path.stem: json.loads(path.read_text()) for path in (ROOT / "policy").glob("*.json")
            if path.stem in stack_files()}


def test_the_policy_pack_is_published_and_enforced_on_every_stack(example_run):
    [pack] = example_run.of_type("pulumiservice:index:PolicyPack")
    groups = example_run.of_type("pulumiservice:index:PolicyGroup")
    assert pack.inputs["sourcePath"] == "../policy"
    assert (DEPLOYMENTS / pack.inputs["sourcePath"]).resolve() == ROOT / "policy"
    enforced = Counter()
    for group in groups:
        assert group.inputs["entityType"] == "stacks"
        assert group.inputs["mode"] == "preventative"
        assert pack.urn in group.dependencies
        [reference] = group.inputs["policyPacks"]
        assert (reference["name"], reference["versionTag"]) == (pack.inputs["name"], pack.inputs["versionTag"])
        enforced.update((s["name"], s["routingProject"]) for s in group.inputs["stacks"])
    # Every stack in exactly one group: a stack in the plain group too would
    # still be refused what its exception allows.
    assert enforced == Counter({(stack, "sovereign-cloud"): 1 for stack in stack_files()})


def test_a_stack_with_a_reviewed_exception_gets_it_and_no_other_stack_does(example_run):
    exceptions = reviewed_exceptions()
    assert {"prod", "staging-us"} <= set(exceptions)
    by_group = {g.inputs["name"]: g for g in example_run.of_type("pulumiservice:index:PolicyGroup")}
    plain = by_group.pop("sovereign-cloud-stacks")
    assert "config" not in plain.inputs["policyPacks"][0]
    assert not {s["name"] for s in plain.inputs["stacks"]} & set(exceptions)
    assert {name: ([s["name"] for s in g.inputs["stacks"]], g.inputs["policyPacks"][0]["config"])
            for name, g in by_group.items()} == {
        f"sovereign-cloud-{stack}": ([stack], config) for stack, config in exceptions.items()}


def test_the_workflow_previews_each_stack_with_its_own_exception_only():
    job = load_workflow()["jobs"]["preview"]
    includes = {entry["stack"]: entry for entry in job["strategy"]["matrix"].get("include", [])}
    assert {stack: entry.get("policy-config") for stack, entry in includes.items()} == {
        stack: f"policy/{stack}.json" for stack in reviewed_exceptions()}
    [(_, preview)] = [(j, s) for j, s in pulumi_command_steps(load_workflow()) if j == "preview"]
    assert preview["with"]["policyPackConfigs"] == "${{ matrix.policy-config }}"


def test_the_published_policy_version_is_the_packs_own():
    """A change of policy/ is published under the version PulumiPolicy.yaml declares
    (published versions are immutable), with the name the pack gives itself."""
    manifest = _yaml().load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    policy = example_config()["policy"]
    assert str(policy["versionTag"]) == str(manifest["version"])
    names = [node.value.value for path in (ROOT / "policy").rglob("*.py") if "venv" not in path.parts
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
             and any(isinstance(t, ast.Name) and t.id == "PACK_NAME" for t in node.targets)]
    if not names:
        pytest.skip("policy/ does not define PACK_NAME yet")
    assert policy["name"] == names[0]


def test_without_policy_config_nothing_is_published():
    config = example_config()
    del config["policy"]
    run = run_deployments(config)
    assert run.of_type("pulumiservice:index:PolicyPack") == []
    assert run.of_type("pulumiservice:index:PolicyGroup") == []
    assert len(run.of_type("pulumiservice:index:DeploymentSettings")) == len(stack_files())
    assert run.outputs["policyEnforced"] is False


def test_an_agent_pool_and_an_executor_image_reach_every_stack():
    config = example_config() | {"agentPoolId": "pool-1", "executorImage": "pulumi/pulumi-python:3.272.0"}
    for settings in by_stack(run_deployments(config), "pulumiservice:index:DeploymentSettings").values():
        assert settings.inputs["agentPoolId"] == "pool-1"
        assert settings.inputs["executorContext"] == {"executorImage": "pulumi/pulumi-python:3.272.0"}


def test_a_project_in_a_subdirectory_prefixes_its_paths(tmp_path):
    from deployments.stack_deployments import ConfigError, parse_config, path_filters

    config = example_config() | {"repoDir": "infra/cloud"}
    # The stack files must then be in infra/cloud.
    with pytest.raises(ConfigError, match="no Pulumi.prod.yaml in 'infra/cloud'"):
        parse_config(config, repo_root=tmp_path)
    (tmp_path / "infra" / "cloud").mkdir(parents=True)
    for stack in stack_files():
        (tmp_path / "infra" / "cloud" / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    parsed = parse_config(config, repo_root=tmp_path)
    assert parsed.repo_dir == "infra/cloud"
    paths = path_filters(parsed, "prod")
    assert {"infra/cloud/components/**", "infra/cloud/Pulumi.prod.yaml", "policy/**"} <= set(paths)
    assert "components/**" not in paths


# --- (c) invalid config -------------------------------------------------------------------


def broken_config() -> dict:
    config = example_config()
    del config["organization"]
    config["repository"] = "sovereign-cloud"
    config["branch"] = "feature..x"
    config["policy"]["mode"] = "strict"
    config["policy"]["versionTag"] = "v1"
    config["stacks"]["prod"]["drift"]["autoRemediate"] = True
    config["stacks"]["budget"]["drift"]["cron"] = "0 25 * *"
    config["stacks"]["dev"]["drift"]["cron"] = "0 25 * * *"
    config["stacks"]["dev"]["drfit"] = {"cron": "0 0 * * *"}
    config["stacks"]["qa"] = {"drift": {"cron": "0 0 * * *"}}  # no Pulumi.qa.yaml
    config["environment"] = {"1BAD": "x"}
    return config


EXPECTED_PROBLEMS = {
    "deployments.organization": "is required",
    "deployments.repository": "is not a GitHub repository",
    "deployments.branch": "is not a branch name",
    "deployments.policy.mode": "is not allowed",
    "deployments.policy.versionTag": "is not a semantic version",
    "deployments.stacks.prod.drift.autoRemediate": "must not auto-remediate",
    "deployments.stacks.budget.drift.cron": "has 4 field(s)",
    "deployments.stacks.dev.drift.cron": "'25' is outside the hour field (0-23)",
    "deployments.stacks.dev.drfit": "unknown key",
    "deployments.stacks.qa": "no Pulumi.qa.yaml",
    "deployments.environment": "not environment variable name(s)",
}


def test_an_invalid_config_reports_every_problem_at_once_naming_the_field():
    from deployments.stack_deployments import ConfigError, parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config(broken_config())
    found = {issue.path: issue for issue in caught.value.issues}
    assert set(found) == set(EXPECTED_PROBLEMS)
    for path, message in EXPECTED_PROBLEMS.items():
        assert message in found[path].message, (path, found[path])
        assert found[path].fix, path
    assert "did you mean 'drift'?" in found["deployments.stacks.dev.drfit"].fix
    assert "budget" in found["deployments.stacks.qa"].fix
    assert "'audit' or 'preventative'" in found["deployments.policy.mode"].fix


def test_an_invalid_config_creates_nothing_and_prints_every_field():
    import pulumi

    with pytest.raises(pulumi.RunError) as caught:
        run_deployments(broken_config())
    assert caught.value.registered_resources == []
    message = str(caught.value)
    assert f"{len(EXPECTED_PROBLEMS)} problem(s)" in message
    for path in EXPECTED_PROBLEMS:
        assert f"{path}:" in message


@pytest.mark.parametrize(("cron", "ok"), [
    ("0 */6 * * *", True), ("30 5 * * 1-5", True), ("0 0 1 jan,jul *", True), ("*/15 * * * SUN", True),
    ("0 6 * *", False), ("61 * * * *", False), ("0 5-3 * * *", False), ("0 */0 * * *", False),
    ("0 0 0 * *", False), ("@daily", False), ("0 0 * * 8", False),
])
def test_cron_expressions(cron, ok):
    from deployments.stack_deployments import _cron_problem

    assert (_cron_problem(cron) is None) is ok, _cron_problem(cron)


def test_the_config_must_be_a_mapping():
    from deployments.stack_deployments import ConfigError, parse_config

    with pytest.raises(ConfigError, match="deployments: must be a mapping"):
        parse_config(["prod"])
