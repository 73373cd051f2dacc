"""Pulumi Deployments of the sovereign-cloud stacks, as code.

For every environment stack of the project (one ``Pulumi.<stack>.yaml`` each):

- a ``pulumiservice:index:DeploymentSettings``: the source (this repository,
  its branch, the directory of ``Pulumi.yaml``), the GitHub triggers (preview
  every pull request, ``pulumi up`` every merge/push to the branch, only when a
  file the stack depends on changed), and how the operation runs (pre-run
  commands that install the pinned requirements, environment variables, an
  optional self-hosted agent pool);
- a ``pulumiservice:index:DriftSchedule`` (a cron from config; production
  stacks never auto-remediate).

Policy packs: ``DeploymentSettings`` has no policy-pack input (pulumi-pulumiservice
1.5.0: organization, project, stack, agent_pool_id, cache_options,
executor_context, github/vcs, operation_context, source_context), and its
operations run a fixed ``pulumi preview``/``up`` without extra CLI flags, so
``--policy-pack`` cannot be passed to them. The provider enforces a pack
server-side instead: ``PolicyPack`` publishes ``policy/`` to Pulumi Cloud and
``PolicyGroup`` applies it to the stacks, which covers every operation on them
(Deployments, drift runs, the CLI). That is optional (``policy`` in config);
the GitHub workflow runs ``policy/`` locally on every pull request either way.

The whole config object is validated before anything is created; every
problem is reported at once with its field and the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import pulumi
import pulumi_pulumiservice as ps
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

CONFIG_KEY = "deployments"
# The repository this program lives in (deployments/ is one level down): the
# stack files of the configured stacks must exist there.
REPO_ROOT = Path(__file__).resolve().parent.parent

# Files of the sovereign-cloud program (relative to its repoDir) whose change
# must trigger a preview/deployment of every stack; each stack adds its own
# Pulumi.<stack>.yaml and the base files it names (clusterBase), and the
# policy pack (relative to the repository root) is added too. Tests, docs, benchmarks and deployments/ itself trigger nothing.
PROGRAM_PATHS = ("Pulumi.yaml", "__main__.py", "requirements.txt", "components/**", "stacks/**")
POLICY_PATHS = ("policy/**",)

# Deployments install the requirements themselves (skip_install_dependencies):
# into the virtualenv that Pulumi.yaml names (.venv), from the pinned file.
PRE_RUN_COMMANDS = (
    "python3 -m venv .venv",
    ".venv/bin/python -m pip install --disable-pip-version-check --quiet -r requirements.txt",
)
BASE_ENVIRONMENT = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONUNBUFFERED": "1",
}
# DeploymentSettingsVcsArgs.provider: the VCS the settings apply to. The
# `github` argument of DeploymentSettings is deprecated in favour of `vcs`
# (SDK 1.5.0); "github" is the value of Pulumi Cloud's VCSProvider enum.
VCS_PROVIDER = "github"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_BRANCH_FORBIDDEN = re.compile(r"(\.\.|[\s~^:?*\[\\]|@\{|//|^/|/$|\.lock$|^\.|/\.)")


# --- issues -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config: where, what, and how to fix it."""

    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class ConfigError(ValueError):
    """Every problem found at once; nothing may be created after it."""

    def __init__(self, issues: Iterable[ConfigIssue]):
        self.issues = sorted(dict.fromkeys(issues), key=lambda i: i.path)
        super().__init__(
            f"{len(self.issues)} problem(s) in the config {CONFIG_KEY}:\n" + "\n".join(f"  - {i}" for i in self.issues)
        )


def _invalid(message: str, fix: str, at: str = "") -> PydanticCustomError:
    """A validation error carrying its fix (and a sub-path for model-level rules)."""
    return PydanticCustomError("invalid", "{message}", {"message": message, "fix": fix, "at": at})


# --- field checks ---------------------------------------------------------------------


def _name(kind: str, example: str):
    def check(value: str) -> str:
        if not _NAME.match(value):
            raise _invalid(
                f"{value!r} is not a valid {kind}",
                f"use letters, digits, '-', '_' or '.', starting with a letter or digit, e.g. {example!r}",
            )
        return value

    return check


StackName = Annotated[str, AfterValidator(_name("stack name", "prod"))]

_CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}),
    ("day of week", 0, 7, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}),
)
_CRON_EXAMPLE = "write 5 fields, e.g. '0 */6 * * *' (every 6 hours) or '30 5 * * 1-5' (05:30 on weekdays)"


def _cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a 5-field cron schedule, or None."""
    fields = expression.split()
    if len(fields) != 5:
        return (f"cron {expression!r} has {len(fields)} field(s); a schedule has 5 "
                "(minute hour day-of-month month day-of-week)")
    for text, (label, low, high, names) in zip(fields, _CRON_FIELDS):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                return f"cron {expression!r}: the step {step!r} of the {label} field is not a positive number"
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2 or not all(bounds):
                return f"cron {expression!r}: {item!r} is not a value or range of the {label} field"
            values = []
            for bound in bounds:
                value = names.get(bound.lower(), int(bound) if bound.isdigit() else None)
                if value is None or not low <= value <= high:
                    return f"cron {expression!r}: {bound!r} is outside the {label} field ({low}-{high})"
                values.append(value)
            if len(values) == 2 and values[0] > values[1]:
                return f"cron {expression!r}: the {label} range {base!r} runs backwards"
    return None


# --- the config model -------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True, str_strip_whitespace=True)


class Drift(_Model):
    """When drift detection runs (``pulumi refresh --preview-only``) and whether
    detected drift is remediated (``pulumi up``) automatically."""

    cron: str
    auto_remediate: bool = False

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = _cron_problem(value)
        if problem:
            raise _invalid(problem, _CRON_EXAMPLE)
        return " ".join(value.split())


class StackDeployment(_Model):
    """How one environment stack is deployed."""

    # A production stack: drift is reported, never remediated unattended.
    production: bool = False
    preview_pull_requests: bool = True
    deploy_commits: bool = True
    drift: Drift

    @model_validator(mode="after")
    def _production_is_not_auto_remediated(self) -> StackDeployment:
        if self.production and self.drift.auto_remediate:
            raise _invalid(
                "a production stack must not auto-remediate drift",
                "set autoRemediate: false (drift in production is reviewed and reverted through a pull request)",
                at="drift.autoRemediate",
            )
        return self


class Policy(_Model):
    """The policy pack ``policy/``, published and enforced server-side."""

    # The pack's name as policy/ declares it (PolicyPack("<name>", ...)).
    name: Annotated[str, AfterValidator(_name("policy pack name", "sovereign-cloud"))]
    # Published versions are immutable: bump it to publish a change of policy/.
    version_tag: str
    # Relative to deployments/ (where `pulumi up` of this program runs).
    source_path: str = "../policy"
    mode: Literal["audit", "preventative"] = "preventative"

    @field_validator("version_tag")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise _invalid(f"{value!r} is not a semantic version", "use MAJOR.MINOR.PATCH, e.g. '0.1.0'")
        return value


class DeploymentsConfig(_Model):
    organization: Annotated[str, AfterValidator(_name("Pulumi organization", "sovereign-example"))]
    project: Annotated[str, AfterValidator(_name("Pulumi project", "sovereign-cloud"))] = "sovereign-cloud"
    # The GitHub repository holding the project, as owner/name.
    repository: str
    branch: str = "main"
    # Directory of the project's Pulumi.yaml inside the repository.
    repo_dir: str = "."
    # A self-hosted agent pool: Pulumi-hosted runners cannot reach a Kubernetes
    # API limited to kubernetes.apiSourceCidrs.
    agent_pool_id: str | None = None
    executor_image: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    extra_paths: list[str] = Field(default_factory=list)
    policy: Policy | None = None
    stacks: dict[StackName, StackDeployment] = Field(min_length=1)

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise _invalid(f"{value!r} is not a GitHub repository", "use owner/name, e.g. 'sovereign-example/sovereign-cloud'")
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        name = value.removeprefix("refs/heads/")
        if not name or _BRANCH_FORBIDDEN.search(name):
            raise _invalid(f"{value!r} is not a branch name", "use the branch's name, e.g. 'main'")
        return name

    @field_validator("repo_dir")
    @classmethod
    def _repo_dir(cls, value: str) -> str:
        problem = _repo_dir_problem(value)
        if problem:
            raise _invalid(problem, "use a path relative to the repository root, e.g. '.'")
        return str(PurePosixPath(value))

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if not _ENV_NAME.match(name))
        if bad:
            raise _invalid(f"{', '.join(map(repr, bad))}: not environment variable name(s)",
                           "use letters, digits and '_', not starting with a digit")
        return value

    @field_validator("extra_paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not p or p.startswith("/") or ".." in PurePosixPath(p).parts]
        if bad:
            raise _invalid(f"{', '.join(map(repr, bad))}: not path filter(s) inside the repository",
                           "use globs relative to the repository root, e.g. 'docs/ops/**'")
        return value


def _repo_dir_problem(value: str) -> str | None:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        return f"{value!r} is not a directory inside the repository"
    return None


# --- parsing ------------------------------------------------------------------------------

_TYPE_FIXES = {
    "missing": "add it",
    "bool_type": "use true or false",
    "bool_parsing": "use true or false",
    "string_type": "use a string (quote it in YAML)",
    "dict_type": "use a mapping",
    "list_type": "use a list",
    "too_short": "add at least one entry",
}


def _known_keys() -> list[str]:
    models = (DeploymentsConfig, StackDeployment, Drift, Policy)
    return sorted({field.alias or name for model in models for name, field in model.model_fields.items()})


def _issues_from(error: ValidationError, root: str) -> list[ConfigIssue]:
    issues = []
    for err in error.errors(include_url=False):
        ctx = err.get("ctx") or {}
        parts = [str(p) for p in err["loc"] if p != "[key]"]
        if ctx.get("at"):
            parts.append(ctx["at"])
        path = ".".join([root, *parts])
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(parts[-1], _known_keys(), n=1)
            fix = f"did you mean {close[0]!r}?" if close else "remove it"
            issues.append(ConfigIssue(path, "unknown key", fix))
        elif err["type"] == "missing":
            issues.append(ConfigIssue(path, "is required", "add it (see deployments/Pulumi.deployments.yaml)"))
        elif err["type"] == "literal_error":
            issues.append(ConfigIssue(path, f"{err['input']!r} is not allowed", f"use one of {ctx.get('expected')}"))
        else:
            issues.append(ConfigIssue(path, err["msg"], ctx.get("fix") or _TYPE_FIXES.get(err["type"], "")))
    return issues


def _stack_file_issues(data: Mapping[str, Any], repo_root: Path, root: str) -> list[ConfigIssue]:
    """Every configured stack is one of the project's stacks: its file exists."""
    stacks, repo_dir = data.get("stacks"), data.get("repoDir", ".")
    if not isinstance(stacks, Mapping) or not isinstance(repo_dir, str) or _repo_dir_problem(repo_dir):
        return []
    project_dir = repo_root / repo_dir
    present = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
    return [
        ConfigIssue(
            f"{root}.stacks.{name}",
            f"the project has no stack {name!r}: no Pulumi.{name}.yaml in {repo_dir!r}",
            f"add Pulumi.{name}.yaml next to Pulumi.yaml, or use one of the stacks {present}",
        )
        for name in stacks
        if isinstance(name, str) and _NAME.match(name) and not (project_dir / f"Pulumi.{name}.yaml").is_file()
    ]


def parse_config(data: Any, *, repo_root: Path = REPO_ROOT) -> DeploymentsConfig:
    """The validated config, or ConfigError with every problem found."""
    if not isinstance(data, Mapping):
        raise ConfigError([ConfigIssue(CONFIG_KEY, f"must be a mapping, got {type(data).__name__}",
                                       "see deployments/Pulumi.deployments.yaml")])
    issues: list[ConfigIssue] = []
    config = None
    try:
        config = DeploymentsConfig.model_validate(data)
    except ValidationError as err:
        issues += _issues_from(err, CONFIG_KEY)
    issues += _stack_file_issues(data, repo_root, CONFIG_KEY)
    if issues or config is None:
        raise ConfigError(issues)
    return config


# --- resources ------------------------------------------------------------------------------


def path_filters(config: DeploymentsConfig, stack: str, *, repo_root: Path = REPO_ROOT) -> list[str]:
    """The repository paths whose change previews/deploys ``stack``: the
    program, its stack file and the base files that file names."""
    prefix = "" if config.repo_dir == "." else f"{config.repo_dir}/"
    own = (f"Pulumi.{stack}.yaml", *stack_base_files(repo_root / config.repo_dir, config.project, stack))
    program = [f"{prefix}{p}" for p in (*PROGRAM_PATHS, *own)]
    return list(dict.fromkeys([*program, *POLICY_PATHS, *config.extra_paths]))


def stack_base_files(project_dir: Path, project: str, stack: str) -> list[str]:
    """The ``<project>:clusterBase`` files of a stack (the environment stacks'
    shared base, sovereign-cloud's stacks/environments.py): one path or a list."""
    import yaml  # a dependency of the pulumi SDK

    path = project_dir / f"Pulumi.{stack}.yaml"
    document = (yaml.safe_load(path.read_text()) if path.is_file() else None) or {}
    bases = (document.get("config") or {}).get(f"{project}:clusterBase") or []
    return [bases] if isinstance(bases, str) else [str(b) for b in bases]


def _deployment_settings(config: DeploymentsConfig, stack: str, spec: StackDeployment) -> ps.DeploymentSettings:
    return ps.DeploymentSettings(
        stack,
        organization=config.organization,
        project=config.project,
        stack=stack,
        agent_pool_id=config.agent_pool_id,
        executor_context=(ps.DeploymentSettingsExecutorContextArgs(executor_image=config.executor_image)
                          if config.executor_image else None),
        source_context=ps.DeploymentSettingsSourceContextArgs(
            git=ps.DeploymentSettingsGitSourceArgs(branch=f"refs/heads/{config.branch}", repo_dir=config.repo_dir),
        ),
        vcs=ps.DeploymentSettingsVcsArgs(
            provider=VCS_PROVIDER,
            repository=config.repository,
            preview_pull_requests=spec.preview_pull_requests,
            deploy_commits=spec.deploy_commits,
            pull_request_template=False,
            paths=path_filters(config, stack),
        ),
        operation_context=ps.DeploymentSettingsOperationContextArgs(
            pre_run_commands=list(PRE_RUN_COMMANDS),
            environment_variables={**BASE_ENVIRONMENT, **config.environment},
            options=ps.OperationContextOptionsArgs(skip_install_dependencies=True, skip_intermediate_deployments=True),
        ),
    )


def policy_exceptions(config: DeploymentsConfig, policy: Policy) -> dict[str, dict]:
    """Stack -> its reviewed policy config, ``policy/<stack>.json`` (what
    ``pulumi preview --policy-pack-config`` takes, e.g. prod's extra region)."""
    pack_dir = (Path(__file__).resolve().parent / policy.source_path).resolve()
    found = {}
    for stack in config.stacks:
        path = pack_dir / f"{stack}.json"
        if path.is_file():
            found[stack] = json.loads(path.read_text())
    return found


def _policy(config: DeploymentsConfig, policy: Policy) -> list[ps.PolicyGroup]:
    """The pack on every stack: one group with the pack as it is, and one
    group per stack with a reviewed exception (its config applies to that
    stack only; the stack is left out of the plain group, or that group
    would still refuse it)."""
    pack = ps.PolicyPack(
        policy.name,
        name=policy.name,
        organization=config.organization,
        source_path=policy.source_path,
        version_tag=policy.version_tag,
    )
    exceptions = policy_exceptions(config, policy)

    def group(name: str, stacks: list[str], pack_config: dict | None) -> ps.PolicyGroup:
        return ps.PolicyGroup(
            name,
            name=name,
            organization_name=config.organization,
            entity_type="stacks",
            mode=policy.mode,
            # The pack's outputs: the group is updated after the version is published.
            policy_packs=[ps.PolicyGroupPolicyPackReferenceInputArgs(
                name=pack.name, version_tag=pack.version_tag, config=pack_config)],
            stacks=[ps.PolicyGroupStackReferenceArgs(name=stack, routing_project=config.project) for stack in stacks],
        )

    groups = [group(f"{config.project}-stacks", [s for s in config.stacks if s not in exceptions], None)]
    groups += [group(f"{config.project}-{stack}", [stack], exceptions[stack]) for stack in exceptions]
    return groups


def build(config: DeploymentsConfig) -> None:
    summary = {}
    for stack, spec in config.stacks.items():
        settings = _deployment_settings(config, stack, spec)
        # Drift runs are deployments: they need the stack's settings first.
        ps.DriftSchedule(
            stack,
            organization=config.organization,
            project=config.project,
            stack=stack,
            schedule_cron=spec.drift.cron,
            auto_remediate=spec.drift.auto_remediate,
            opts=pulumi.ResourceOptions(depends_on=[settings]),
        )
        summary[stack] = {
            "previewPullRequests": spec.preview_pull_requests,
            "deployCommits": spec.deploy_commits,
            "driftCron": spec.drift.cron,
            "autoRemediate": spec.drift.auto_remediate,
        }
    if config.policy is not None:
        _policy(config, config.policy)
    pulumi.export("stacks", summary)
    pulumi.export("policyEnforced", config.policy is not None)


def main() -> None:
    data = pulumi.Config().require_object(CONFIG_KEY)
    try:
        config = parse_config(data)
    except ConfigError as err:
        # RunError: printed without a traceback, and nothing is created.
        raise pulumi.RunError(str(err)) from None
    if config.agent_pool_id is None:
        pulumi.log.warn(
            f"{CONFIG_KEY}.agentPoolId is not set: deployments run on Pulumi-hosted runners, which cannot reach "
            "a Kubernetes API limited to kubernetes.apiSourceCidrs; set it to a self-hosted agent pool whose "
            "address is listed there (or that runs on the mesh)"
        )
    if config.policy is None:
        pulumi.log.info(f"{CONFIG_KEY}.policy is not set: policy/ runs only in the GitHub workflow's previews")
    build(config)
