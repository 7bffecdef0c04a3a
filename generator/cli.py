"""The ``falgen`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, diff, fetch
from .errors import GenerationError, SpecErrors
from .output import compare_tree, write_tree
from .pipeline import Options, generate_tree
from .server import cli as server_cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.handler(args)
    except SpecErrors as problem:
        count = len(problem.errors)
        print(f"falgen: {count} problem{'s' if count > 1 else ''} in the specs:", file=sys.stderr)
        for error in problem.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    except GenerationError as problem:
        print(f"falgen: {problem}", file=sys.stderr)
        return 1
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="falgen", description="Generate typed Python clients for fal.ai model endpoints."
    )
    parser.add_argument("--version", action="version", version=f"falgen {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    generate = commands.add_parser(
        "generate", help="generate the client package from the specs", description=_cmd_doc()
    )
    generate.add_argument("--specs", type=Path, default=Path("specs"), help="specs folder")
    generate.add_argument("--out", type=Path, default=Path("generated"), help="output folder")
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a summary when the output folder is stale",
    )
    generate.set_defaults(handler=_generate)
    fetch.add_command(commands)
    diff.add_command(commands)
    server_cli.add_command(commands)
    return parser


def _cmd_doc() -> str:
    return (
        "Regenerate the output folder from the specs. The folder is replaced as a whole and "
        "atomically; a spec problem leaves it untouched."
    )


def _generate(args: argparse.Namespace) -> int:
    files = generate_tree(args.specs, Options())
    if args.check:
        diff = compare_tree(args.out, files)
        if diff.clean:
            print(f"{args.out} is up to date ({len(files)} files)")
            return 0
        print(f"{args.out} is stale; run 'falgen generate' to update it:", file=sys.stderr)
        print(diff.summary(), file=sys.stderr)
        return 1
    write_tree(args.out, files)
    print(f"generated {len(files)} files in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
