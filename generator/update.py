"""``falgen update`` and ``falgen new``: a model changed on fal (or is new), update the bindings.

One step does what a careful maintainer would do by hand: fetch the endpoints' documents, diff
them against the specs in use, bump the generated package's version by what the diff found
(major for breaking or behaviour changes, minor for additions, patch for documentation), add a
changelog entry made from the diff, and regenerate.

Nothing is written until everything has succeeded: the specs are fetched into a copy of the
specs folder, the new tree is generated from that copy in memory, and only then are the changed
specs, the settings, the changelog and the output written. When any download fails, nothing is
written at all (exit status 1): a release made of some of the changes would be labelled with a
version and a changelog that do not say so.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .diff import changelog_entry, diff_specs, load_file, render_text, use_color
from .errors import SpecErrors
from .fetch import (
    SpecFetcher,
    Status,
    existing_endpoint_ids,
    needs_attention,
    refresh_specs,
    render_results,
)
from .manifest import Previous
from .output import write_tree
from .pipeline import generate
from .remote import add_base_url, resolve_hosts
from .settings import read_options, write_options
from .specfile import InvalidEndpointId, spec_path, validate_endpoint_id, write_atomically

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def release_date(environ: Mapping[str, str] = os.environ) -> dt.date:
    """Today, or the day ``SOURCE_DATE_EPOCH`` names (reproducible builds' convention)."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "update",
    help: str | None = None,
) -> None:
    """Register ``falgen update`` or (``name="new"``) ``falgen new``."""
    adding = name == "new"
    parser = subparsers.add_parser(
        name,
        help=help,
        description=(
            (
                "Add endpoints that are not in the specs folder yet"
                if adding
                else "Refresh endpoints from fal (all of them by default)"
            )
            + ": fetch their OpenAPI documents, report what changed, bump the generated "
            "package's version (major for breaking changes, minor for additions, patch for "
            "documentation), prepend a changelog entry and regenerate. Nothing is written "
            "unless every fetch and the generation succeed. Exit status: 0 done, 1 a fetch or "
            "the generation failed, 2 usage error."
        ),
    )
    parser.add_argument(
        "endpoint_ids",
        nargs="+" if adding else "*",
        metavar="ENDPOINT_ID",
        help="e.g. fal-ai/flux/dev" + ("" if adding else " (default: every spec in the folder)"),
    )
    parser.add_argument("--specs", type=Path, default=Path("specs"), help="specs folder")
    parser.add_argument("--out", type=Path, default=Path("generated"), help="output folder")
    add_base_url(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would change; write nothing"
    )
    parser.set_defaults(handler=run, adding=adding)


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    fetcher: SpecFetcher | None = None,
) -> int:
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    specs_dir: Path = args.specs
    command = "new" if args.adding else "update"
    try:
        ids = _endpoint_ids(specs_dir, args.endpoint_ids, adding=args.adding)
        fetcher = fetcher or SpecFetcher(resolve_hosts(args.base_url))
    except (ValueError, InvalidEndpointId) as problem:
        print(f"falgen {command}: error: {problem}", file=err)
        return EXIT_USAGE
    if not ids:
        print(f"no specs in {specs_dir} to update", file=out)
        return EXIT_OK

    before = _loaded(specs_dir, ids)
    options = read_options(specs_dir)
    with tempfile.TemporaryDirectory(prefix="falgen-update-") as scratch:
        staged = Path(scratch) / "specs"
        if specs_dir.is_dir():
            shutil.copytree(specs_dir, staged)
        else:
            staged.mkdir()
        results = refresh_specs(fetcher, staged, ids)
        out.write(render_results(results))
        failed = [result for result in results if needs_attention(result)]
        if failed:
            print(
                f"\nnothing written: {len(failed)} of {len(results)} endpoints could not be "
                "updated (see above)",
                file=out,
            )
            return EXIT_FAILED
        report = diff_specs(before, _loaded(staged, ids))
        out.write("\n" + render_text(report, color=use_color(out)))
        bump = report.semver_bump()
        if bump is not None:
            old_version = options.version
            options = options.bumped(bump)
            options = options.with_release_notes(
                changelog_entry(report, options.version, release_date())
            )
            print(f"\n{options.distribution} {old_version} -> {options.version} ({bump})", file=out)
        generation = generate(staged, options, previous=Previous.read(args.out))
        files = generation.files
        for flaw in generation.problems:
            print(f"  {flaw.severity}: {flaw}", file=err)
        if args.dry_run:
            print("dry run: nothing written", file=out)
        else:
            changed = [r for r in results if r.status in (Status.ADDED, Status.UPDATED)]
            for result in changed:
                source = spec_path(staged, result.endpoint_id)
                write_atomically(
                    spec_path(specs_dir, result.endpoint_id), source.read_text("utf-8")
                )
            if bump is not None:
                write_options(specs_dir, options)
            write_tree(args.out, files)
            generation.remember(args.out)  # the tree on disk is the one generated: trust it
            print(f"generated {len(files)} files in {args.out}", file=out)
    return EXIT_OK


def _loaded(specs_dir: Path, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The specs of ``ids`` in ``specs_dir`` as the diff compares them. Only the refreshed
    endpoints can change; one that is not there or cannot be loaded counts as absent, so that
    a broken spec elsewhere (which generation skips) does not stop an update."""
    found: dict[str, dict[str, Any]] = {}
    for endpoint_id in ids:
        path = spec_path(specs_dir, endpoint_id)
        if path.is_file():
            with contextlib.suppress(SpecErrors):
                loaded_id, document = load_file(path)
                found[loaded_id] = document
    return found


def _endpoint_ids(specs_dir: Path, requested: Sequence[str], *, adding: bool) -> list[str]:
    ids = list(dict.fromkeys(validate_endpoint_id(endpoint_id) for endpoint_id in requested))
    if adding:
        present = [i for i in ids if spec_path(specs_dir, i).exists()]
        if present:
            raise ValueError(
                f"already in {specs_dir}: {', '.join(present)} (use 'falgen update' to refresh)"
            )
        return ids
    return ids or existing_endpoint_ids(specs_dir)
