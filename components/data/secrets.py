"""The secret config the data services need, by spec.

Credentials are never spec: each is a secret config key the stack sets
(``pulumi config set --secret <key> ...``), read by ``stacks/program.py``
before anything is created and handed to the platform as a Pulumi secret
under the platform secret name given here (``ctx.secrets[name]``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataSecret:
    config_key: str
    """The secret config key (camelCase, as ``pulumi config set --secret`` takes it)."""
    name: str
    """The platform secret name (``ctx.secrets``)."""
    needed_by: str
    """The spec field that needs it (named in the error when it is missing)."""


BACKUP_ACCESS_KEY = DataSecret("dataBackupS3AccessKey", "data-backup-s3-access-key", "dataServices.postgres.backups")
BACKUP_SECRET_KEY = DataSecret("dataBackupS3SecretKey", "data-backup-s3-secret-key", "dataServices.postgres.backups")
MINIO_ROOT_USER = DataSecret("dataMinioRootUser", "data-minio-root-user", "dataServices.objectStore.engine minio")
MINIO_ROOT_PASSWORD = DataSecret("dataMinioRootPassword", "data-minio-root-password",
                                 "dataServices.objectStore.engine minio")
ALL = (BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD)


def needed_secrets(spec) -> list[DataSecret]:
    """The secret config keys ``spec``'s data services need, in a stable order."""
    data = spec.data_services
    out: list[DataSecret] = []
    if data.postgres.enabled and data.postgres.backups.enabled:
        out += [BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY]
    if data.object_store.enabled and data.object_store.engine == "minio":
        out += [MINIO_ROOT_USER, MINIO_ROOT_PASSWORD]
    return out


def minio_root_problems(user: str, password: str) -> list[str]:
    """What MinIO cannot take as root credentials in its ``config.env``
    (``export MINIO_ROOT_USER="..."``): MinIO's own length limits ("Access key
    length should be between minimum 3 characters", "Secret key should be in
    between 8 and 40 characters", its cmd/ui-errors.go), and
    characters that would end or expand the quoted value."""
    out = [f"{key} must not contain quotes, backslashes, '$', '`' or newlines (it is written into MinIO's config.env)"
           for key, value in ((MINIO_ROOT_USER.config_key, user), (MINIO_ROOT_PASSWORD.config_key, password))
           if any(c in value for c in '"\\\n$`')]
    if len(user) < 3:
        out.append(f"{MINIO_ROOT_USER.config_key} must have 3 characters or more (MinIO's minimum)")
    if not 8 <= len(password) <= 40:
        out.append(f"{MINIO_ROOT_PASSWORD.config_key} must have 8 to 40 characters (MinIO's limits)")
    return out


def problems(values: dict[DataSecret, str]) -> list[str]:
    """Every problem of the given secret values (plain, read only to check them)."""
    if MINIO_ROOT_USER in values and MINIO_ROOT_PASSWORD in values:
        return minio_root_problems(values[MINIO_ROOT_USER], values[MINIO_ROOT_PASSWORD])
    return []


def missing_message(missing: list[DataSecret]) -> str:
    """One message naming every missing key, what needs it and the fix."""
    keys = ", ".join(s.config_key for s in missing)
    needs = "; ".join(sorted({f"{s.needed_by} needs " + " and ".join(
        m.config_key for m in missing if m.needed_by == s.needed_by) for s in missing}))
    return (f"{needs}: set the secret config keys {keys} "
            f"(pulumi config set --secret {missing[0].config_key} ...), or turn off what needs them")
