"""The ``falgen diff`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..errors import SpecErrors, printable
from .changes import DiffError
from .classify import diff_specs
from .render import RENDERERS, render_text, use_color
from .sources import load_file, load_folder, load_overlay_effect, load_revision

EXIT_OK = 0
EXIT_BREAKING = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Arguments that do not describe a comparison."""


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "diff",
    help: str | None = None,
) -> None:
    """Register ``falgen diff``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=(
            "Compare two spec files, two specs folders, or the specs folder against a git "
            "revision, each with its overlays applied, and classify every change as breaking, "
            "behaviour, deprecation, addition or documentation; --overlays shows what the "
            "overlays change. Exit status: 0 no breaking changes, 1 breaking (or behaviour) "
            "changes, 2 usage or input error."
        ),
    )
    parser.add_argument("old", nargs="?", type=Path, metavar="OLD", help="old spec file or folder")
    parser.add_argument("new", nargs="?", type=Path, metavar="NEW", help="new spec file or folder")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="compare the specs folder at git revision REV with the working specs folder",
    )
    parser.add_argument(
        "--overlays",
        action="store_true",
        help="compare each spec of the specs folder as fal publishes it with its overlay applied",
    )
    parser.add_argument(
        "--specs", type=Path, default=Path("specs"), help="specs folder (default: specs)"
    )
    parser.add_argument(
        "--format", choices=sorted(RENDERERS), default="text", help="report format (default: text)"
    )
    parser.set_defaults(handler=run)


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """``falgen diff``: print the report, return the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    try:
        old, new = _sides(args)
        report = diff_specs(old, new)
    except UsageError as problem:
        print(f"falgen diff: error: {problem}", file=err)
        return EXIT_USAGE
    except SpecErrors as problem:
        print(f"falgen diff: invalid specs:\n{problem}", file=err)
        return EXIT_USAGE
    except DiffError as problem:  # may quote git's output
        print(f"falgen diff: error: {printable(str(problem))}", file=err)
        return EXIT_USAGE
    if args.format == "text":
        out.write(render_text(report, color=use_color(out)))
    else:
        out.write(RENDERERS[args.format](report))
    return EXIT_BREAKING if report.is_breaking else EXIT_OK


def _sides(args: argparse.Namespace) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    old_path: Path | None = args.old
    new_path: Path | None = args.new
    if args.overlays:
        if old_path is not None or new_path is not None or args.against is not None:
            raise UsageError("--overlays compares the specs folder with itself: give nothing else")
        return load_overlay_effect(args.specs)
    if args.against is not None:
        if old_path is not None or new_path is not None:
            raise UsageError("give either OLD NEW or --against REV, not both")
        return load_revision(args.specs, args.against), load_folder(args.specs)
    if old_path is None or new_path is None:
        raise UsageError("give OLD and NEW (two files or two folders), or --against REV")
    for path in (old_path, new_path):
        if not path.exists():
            raise UsageError(f"{path} does not exist")
    if old_path.is_dir() and new_path.is_dir():
        return load_folder(old_path), load_folder(new_path)
    if old_path.is_file() and new_path.is_file():
        old_id, old_document = load_file(old_path)
        new_id, new_document = load_file(new_path)
        # Two files are compared with each other whatever endpoints they declare: the user
        # paired them explicitly. The report is labelled with the new document's id.
        del old_id
        return {new_id: old_document}, {new_id: new_document}
    raise UsageError("OLD and NEW must both be files or both be folders")
