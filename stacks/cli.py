"""``python -m stacks plan <stack>``: what `pulumi up` would build, offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.spec import SpecError

from .config import stack_file

EXIT_INVALID = 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stacks", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="evaluate a stack under the Pulumi mock runtime and print what it creates")
    plan.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<stack>.yaml at the repository root")
    plan.add_argument("--file", type=Path, help="path to a Pulumi.<stack>.yaml (stack name taken from it)")
    plan.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    plan.add_argument("--diagram", type=Path, metavar="OUT.svg", help="draw the topology (svg, png, pdf or dot, from the suffix)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.file:
        path = args.file
        stack = args.stack or _stack_name(path)
    elif args.stack:
        stack, path = args.stack, stack_file(args.stack)
    else:
        parser().error("give a stack name or --file")
    from .plan.run import plan

    try:
        report = plan(stack, path, diagram=args.diagram)
    except SpecError as err:
        print(f"{path}: the cluster spec is invalid ({len(err.issues)} problem(s)); nothing would be created:", file=sys.stderr)
        for issue in err.issues:
            print(f"  - {issue}", file=sys.stderr)
        return EXIT_INVALID
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(report.to_json() if args.json else report.to_text())
    _close_event_loop()
    return 0


def _close_event_loop() -> None:
    """Close the loop the Pulumi runtime opened, before interpreter shutdown
    tears its file descriptors down under it (a noisy traceback otherwise)."""
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loop = asyncio.get_event_loop()
    if not loop.is_closed():
        loop.close()


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml"):
        return name[len("Pulumi."):-len(".yaml")]
    return path.stem
