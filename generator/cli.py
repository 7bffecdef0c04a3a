"""The ``falgen`` command.

Each subcommand lives in its own module, imported only when that subcommand runs: checking an
up-to-date tree (``falgen generate``, the CI guard) must not pay for the HTTP client, the local
server or the formatter.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import GenerationError, SpecErrors, printable
from .ir import Problem

# ``falgen generate``: every endpoint generated (0), some left out (EXIT_SKIPPED), nothing
# generated or any problem with --strict (1), stale output with --check (1), Ctrl-C (130).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_SKIPPED = 3
EXIT_INTERRUPTED = 130

# name -> (module defining ``add_command(subparsers, help=...)``, one-line help)
COMMANDS = {
    "generate": ("generator.cli", "generate the client package from the specs"),
    "fetch": ("generator.fetch", "download fal's OpenAPI documents into the specs folder"),
    "search": ("generator.catalog", "search fal's model catalogue: id, name, category, status"),
    "diff": ("generator.diff", "show what changed between two versions of the specs"),
    "update": ("generator.update", "fetch, diff, bump the version and regenerate in one step"),
    "new": ("generator.update", "add endpoints: fetch their specs, bump the version, regenerate"),
    "serve": ("generator.server.cli", "run a local fal-compatible server for the specs"),
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(_chosen(arguments))
    args = parser.parse_args(arguments)
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
        return EXIT_FAILED
    except GenerationError as problem:
        print(f"falgen: {printable(str(problem))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # the output folder is replaced atomically: it is intact
        print("falgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def _chosen(arguments: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any (options come after it)."""
    first = next((argument for argument in arguments if not argument.startswith("-")), None)
    return first if first in COMMANDS else None


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="falgen", description="Generate typed Python clients for fal.ai model endpoints."
    )
    parser.add_argument("--version", action="version", version=f"falgen {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).add_command(commands, name=name, help=help_text)
        else:  # listed in --help; never parsed
            commands.add_parser(name, help=help_text)
    return parser


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], *, name: str, help: str
) -> None:
    """Register ``falgen generate``."""
    generate = subparsers.add_parser(
        name,
        help=help,
        description=(
            "Regenerate the output folder from the specs. The folder is replaced as a whole and "
            "atomically. A spec with problems does not stop the others: what can be worked "
            "around is (the endpoint is degraded), an endpoint whose input cannot be built is "
            "left out; each is printed as 'file: #/pointer: what and what was done'. Only "
            "files whose inputs changed since the last generation are generated again."
        ),
        epilog=(
            f"Exit status: {EXIT_OK} every endpoint generated (some may be degraded), "
            f"{EXIT_SKIPPED} generated with endpoints left out, {EXIT_FAILED} nothing "
            f"generated (or a problem with --strict, or a stale folder with --check), "
            f"{EXIT_INTERRUPTED} interrupted."
        ),
    )
    generate.add_argument("--specs", type=Path, default=Path("specs"), help="specs folder")
    generate.add_argument("--out", type=Path, default=Path("generated"), help="output folder")
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a summary when the output folder is stale",
    )
    generate.add_argument(
        "--full",
        action="store_true",
        help="generate every file again instead of keeping those whose inputs did not change",
    )
    generate.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="any spec problem stops generation (also: strict = true under [generate] in "
        "the specs folder's falgen.toml)",
    )
    generate.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from .loader import SpecFiles
    from .manifest import Previous, is_up_to_date

    previous = Previous.read(args.out)
    files = SpecFiles.walk(args.specs)  # read once, whether up to date or not
    if not args.full and is_up_to_date(args.specs, previous, strict=args.strict, files=files):
        assert previous is not None
        print(f"{args.out} is up to date")
        return _report(previous.problems)

    from .workers import Workers

    # Started first, so that they are ready when there is work for them (see generator.workers).
    with Workers.for_endpoints(len(files.specs)) as workers:
        from .output import compare_tree, write_tree
        from .pipeline import generate

        generation = generate(
            args.specs,
            previous=previous,
            strict=args.strict,
            full=args.full,
            files=files,
            workers=workers,
        )
    if args.check:
        diff = compare_tree(args.out, generation.files)
        if not diff.clean:
            print(f"{args.out} is stale; run 'falgen generate' to update it:", file=sys.stderr)
            print(diff.summary(), file=sys.stderr)
            _report(generation.problems)
            return EXIT_FAILED
        generation.remember(args.out)  # the tree on disk is the one generated: trust its manifest
        print(f"{args.out} is up to date")
        return _report(generation.problems)
    changes = write_tree(args.out, generation.files)
    generation.remember(args.out)
    print(changes.report(args.out))
    return _report(generation.problems)


def _report(problems: Sequence[Problem]) -> int:
    """Print the spec problems, one line each; the exit status they make."""
    skipped = {problem.source for problem in problems if problem.severity == "skipped"}
    degraded = {problem.source for problem in problems if problem.severity == "degraded"}
    if problems:
        print(
            f"falgen: {len(skipped)} spec{'s' * (len(skipped) != 1)} skipped, "
            f"{len(degraded - skipped)} degraded:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  {problem.severity}: {problem}", file=sys.stderr)
    return EXIT_SKIPPED if skipped else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
