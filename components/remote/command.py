"""Every command Pulumi runs on a node: as root, over a pinned SSH session.

Real VPS images log in as ``debian``/``ubuntu``/``admin``; node scripts call
apt, nft, wg, systemctl and write /etc, so they must run as root. Each
script runs through ``bash -c`` (scripts are bash; a login shell may be
dash) under ``sudo -n`` when the SSH user is not root. Standard input is
left alone, so secrets given on stdin still reach the script.

pulumi-command hard-codes ``replaceOnChanges: ["triggers[*]"]``: a trigger
change deletes the command (running its delete script: a node drained, an
etcd member removed) and creates it again. ``rerun_when`` is the in-place
alternative: a digest passed as an argument of the script, so a change of
its value is a change of ``create``/``update``, which pulumi-command runs
as an update. ``replace_when`` is for what really must be rebuilt.
"""

from __future__ import annotations

import hashlib
import shlex

import pulumi
import pulumi_command as command

from components.compute.node import SshConnection

# $0 of every node script run through ``bash -c`` (shows in ps and logs).
SCRIPT_NAME = "sovereign-node-script"


def as_root(script: str, user: str, *, rerun_digest: str | None = None) -> str:
    """The remote command line running ``script`` with bash as root."""
    args = [SCRIPT_NAME] + ([rerun_digest] if rerun_digest else [])
    run = f"bash -c {shlex.quote(script)} {' '.join(shlex.quote(a) for a in args)}"
    if user == "root":
        return run
    # POSIX sh: this line runs in the user's login shell, whatever it is.
    check = (f"sudo -n true 2>/dev/null || {{ echo {shlex.quote(NO_SUDO.format(user=user))} >&2; exit 97; }}")
    return f"{check}; exec sudo -n -- {run}"


NO_SUDO = ("{user} cannot run sudo without a password on this host; node scripts need root: "
           "give {user} passwordless sudo (e.g. '{user} ALL=(ALL) NOPASSWD:ALL' in /etc/sudoers.d/) "
           "or set the group's sshUser to root")


def _digest(value: pulumi.Input) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value).apply(
        lambda v: hashlib.sha256(repr(v).encode()).hexdigest()[:16])


def _wrapped(script: pulumi.Input[str] | None, user: str, rerun: pulumi.Output[str] | None):
    if script is None:
        return None
    if rerun is None:
        return pulumi.Output.from_input(script).apply(lambda s: as_root(s, user))
    return pulumi.Output.all(script, rerun).apply(lambda v: as_root(v[0], user, rerun_digest=v[1]))


def node_command(
    resource_name: str,
    ssh: SshConnection,
    *,
    create: pulumi.Input[str],
    update: pulumi.Input[str] | None = None,
    delete: pulumi.Input[str] | None = None,
    stdin: pulumi.Input[str] | None = None,
    rerun_when: pulumi.Input | None = None,
    replace_when: pulumi.Input[list] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    **kwargs,
) -> command.remote.Command:
    """A ``command.remote.Command`` on the node behind ``ssh``, run as root.

    ``rerun_when``: any value; when it changes, ``update`` (or ``create``)
    runs again in place. ``replace_when``: pulumi-command ``triggers``, a
    delete-then-create; only for what must truly be rebuilt.
    """
    if "triggers" in kwargs:
        raise TypeError("node_command: use rerun_when (update in place) or replace_when (delete, then create)")
    rerun = _digest(rerun_when) if rerun_when is not None else None
    return command.remote.Command(
        resource_name,
        connection=ssh.remote(),
        create=_wrapped(create, ssh.user, rerun),
        update=_wrapped(update, ssh.user, rerun),
        delete=_wrapped(delete, ssh.user, None),
        stdin=stdin,
        triggers=replace_when,
        opts=opts,
        **kwargs,
    )


def script_of(line: str) -> str:
    """The script inside a command line made by ``as_root`` (for inspection)."""
    words = shlex.split(line)
    for i, word in enumerate(words[:-2]):
        if word == "bash" and words[i + 1] == "-c":
            return words[i + 2]
    raise ValueError(f"not a node command line: {line[:80]!r}")
