"""Every benchmark in one table: ``python -m bench.run [--quick] [--write-readme]``.

Runs each benchmark module present (``bench.generation``, ``bench.startup``, ``bench.runtime``;
each has ``run(quick) -> list[Result]``), then prints one Markdown table with the date and the
machine. ``--write-readme`` also replaces the results section of ``bench/README.md`` (between
the marker comments), keeping the rest of the file.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.results import Result, render_table

MODULES = ("generation", "startup", "runtime")
README = Path(__file__).with_name("README.md")
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo, else what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> str:
    cores = os.cpu_count() or 1
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cpu_model()}, {cores} cores, {python}, {platform.platform(terse=True)}"


VERSIONED = (
    "falgen",
    "ruff",
    "black",
    "datamodel-code-generator",
    "openapi-python-client",
    "fal-client",
    "httpx",
    "pydantic",
)


def versions() -> str:
    """The versions of the tools that shape the figures."""
    from importlib import metadata

    found = []
    for name in VERSIONED:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def available(names: Sequence[str] = MODULES) -> list[str]:
    """The benchmark modules that exist in this checkout, in the standard order."""
    return [name for name in names if importlib.util.find_spec(f"bench.{name}") is not None]


def run_all(names: Sequence[str], *, quick: bool) -> tuple[list[Result], list[str]]:
    """All results, and the modules that failed (their traceback goes to stderr)."""
    results: list[Result] = []
    failed: list[str] = []
    for name in names:
        print(f"bench.{name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            results += module.run(quick=quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            results.append(Result(name=f"bench.{name}", compares="", ours="failed"))
        print(f"bench.{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return results, failed


def report(results: Sequence[Result], *, quick: bool, when: datetime) -> str:
    """The Markdown results section: date, machine, the table and the notes."""
    lines = [
        f"Measured {when:%Y-%m-%d %H:%M} UTC on {machine()}"
        + (" (`--quick`: smoke sizes, targets not judged)" if quick else "")
        + ".",
        "",
        f"Versions: {versions()}.",
        "",
        render_table(results),
    ]
    notes = [f"- {result.name}: {result.note}" for result in results if result.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """``text`` with what lies between the markers replaced by ``section``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{README} has no {START} ... {END} section")
    return text[: start + len(START)] + "\n\n" + section + "\n\n" + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that all runs")
    parser.add_argument(
        "--write-readme", action="store_true", help="replace the results section of bench/README.md"
    )
    parser.add_argument(
        "--only", action="append", choices=MODULES, help="run only this module (repeatable)"
    )
    args = parser.parse_args(argv)
    wanted = args.only or MODULES
    names = available(wanted)
    for name in wanted:
        if name not in names:
            print(f"bench.{name} is not present: skipped", file=sys.stderr)
    results, failed = run_all(names, quick=args.quick)
    section = report(results, quick=args.quick, when=datetime.now(UTC))
    print(section)
    if args.write_readme and failed:
        print(f"\nnot writing {README}: a benchmark failed", file=sys.stderr)
    elif args.write_readme:
        README.write_text(replace_section(README.read_text(encoding="utf-8"), section), "utf-8")
        print(f"\nwrote the results section of {README}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
