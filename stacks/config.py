"""Where a stack's configuration comes from: Pulumi config or a stack file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.data.secrets import BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY

PROJECT = "sovereign-cloud"
CLUSTER_KEY = "cluster"
SSH_PRIVATE_KEY = "sshPrivateKey"
# Secret config of etcd snapshots to S3 (kubernetes.etcdSnapshots.s3).
ETCD_S3_ACCESS_KEY = "etcdS3AccessKey"
ETCD_S3_SECRET_KEY = "etcdS3SecretKey"
# Secret config: the private (deploy) key of an SSH addons.gitops.repoUrl
# (components/platform/addons/gitops.py REPO_SSH_KEY_CONFIG).
GITOPS_REPO_SSH_KEY = "gitopsRepoSshKey"
# Secrets the offline plan stands in for when a stack file does not carry
# them (they live in Pulumi's encrypted config of a real stack, which the plan
# cannot read): the example stack budget fetches its repository over SSH,
# prod backs its PostgreSQL up to S3.
# (The data services' secret config keys: components/data/secrets.py.)
PLAN_SECRET_PLACEHOLDERS = {GITOPS_REPO_SSH_KEY: "-----PLAN PLACEHOLDER, NOT A KEY-----",
                            BACKUP_ACCESS_KEY.config_key: "PLAN-PLACEHOLDER-ACCESS-KEY",
                            BACKUP_SECRET_KEY.config_key: "PLAN-PLACEHOLDER-SECRET-KEY",
                            # autoscaled nodeGroups (components/autoscaling/reach.py TOKEN_CONFIG)
                            "hcloudAutoscalerToken": "PLAN-PLACEHOLDER-HCLOUD-TOKEN"}
REPO_ROOT = Path(__file__).resolve().parent.parent


def stack_file(stack: str) -> Path:
    return REPO_ROOT / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict:
    """The ``config:`` mapping of a ``Pulumi.<stack>.yaml`` file."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise FileNotFoundError(f"no stack file {path}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"{path}: 'config' must be a mapping")
    return config


def as_runtime_config(config: dict, placeholders: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Stack-file config in the form the Pulumi runtime takes.

    Encrypted values (``{secure: ...}``) cannot be read offline: they become
    ``<secret>`` placeholders, still marked secret. ``placeholders`` fills
    required secrets a stack file does not carry (e.g. the SSH private key),
    as does ``PLAN_SECRET_PLACEHOLDERS``.
    """
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full], _ = "<secret>", secret_keys.append(full)
        elif isinstance(value, str):
            values[full] = value
        else:
            values[full] = json.dumps(value)
    for key, value in {**PLAN_SECRET_PLACEHOLDERS, **(placeholders or {})}.items():
        full = f"{PROJECT}:{key}"
        if full not in values:
            values[full] = value
            secret_keys.append(full)
    return values, secret_keys
