"""Start-up costs of the generated package: ``import`` and the CLI's ``--help``.

- ``import fal_models`` for the package of the 13 seed endpoints (``generated/``) and for one of
  1,000 synthetic endpoints (``bench.synthetic_specs``), against ``import fal_client`` (the official
  package): each in a fresh interpreter, minus the start of a bare interpreter, median of many
  runs. First use is measured too (``FalClient()`` and one endpoint attribute): the package is
  lazy, so that is where its modules load.
- ``fal-models flux-1-schnell --help``, as the console script runs it: wall time of the whole
  process, median.

The 1,000-endpoint package is generated once into ``$TMPDIR/falgen-bench-cache`` (keyed by the
generator's salt, so a changed generator makes a new one).

    python -m bench.startup [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.results import Result, render_table
from bench.synthetic_specs import write_specs

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
CACHE = Path(tempfile.gettempdir()) / "falgen-bench-cache"
IMPORT_TARGET = 0.050  # seconds, at 1,000 endpoints
HELP_TARGET = 0.300  # seconds
FIRST_USE = "from fal_models import FalClient; FalClient(key='k').{attribute}"


def run(quick: bool = False) -> list[Result]:
    runs = 5 if quick else 25
    count = 20 if quick else 1000
    big = _package(count)
    first_attribute = _first_attribute(big)
    bare = _median(["-c", "pass"], None, runs)
    official = _median(["-c", "import fal_client"], None, runs) - bare
    results = []
    for label, root in (("13 endpoints", GENERATED), (f"{count} endpoints", big)):
        ours = _median(["-c", "import fal_models"], root, runs) - bare
        results.append(
            Result(
                name=f"import fal_models, {label}",
                value=ours * 1000,
                unit="ms",
                baseline=f"import fal_client: {official * 1000:.1f} ms",
                ratio=official / ours if ours > 0 else None,
                target=f"<= {IMPORT_TARGET * 1000:.0f} ms" if root is big else "",
                met=ours <= IMPORT_TARGET if root is big else None,
            )
        )
    attribute = first_attribute
    used = _median(["-c", FIRST_USE.format(attribute=attribute)], big, runs) - bare
    results.append(
        Result(
            name=f"first use (client + one endpoint), {count} endpoints",
            value=used * 1000,
            unit="ms",
            note="loads httpx, pydantic, the runtime and that endpoint's module",
        )
    )
    for label, root, command in (
        ("13 endpoints", GENERATED, "flux-1-schnell"),
        (f"{count} endpoints", big, attribute.replace("_", "-")),
    ):
        code = f"from fal_models.cli import main; raise SystemExit(main([{command!r}, '--help']))"
        seconds = _median(["-c", code], root, runs)
        results.append(
            Result(
                name=f"fal-models {command} --help, {label}",
                value=seconds * 1000,
                unit="ms",
                target=f"< {HELP_TARGET * 1000:.0f} ms",
                met=seconds < HELP_TARGET,
                note="whole process, interpreter start included",
            )
        )
    return results


def _median(arguments: Sequence[str], root: Path | None, runs: int) -> float:
    """Median wall time of ``python ARGUMENTS`` with ``root`` first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    command = [sys.executable, *arguments]
    subprocess.run(command, env=env, check=True, capture_output=True)  # compile caches first
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _package(count: int) -> Path:
    """A generated package of ``count`` synthetic endpoints (cached)."""
    from generator.manifest import generation_salt

    root = CACHE / f"package-{count}-{generation_salt()[:16]}"
    if not (root / "out" / ".falgen-manifest.json").is_file():
        shutil.rmtree(root, ignore_errors=True)
        write_specs(root / "specs", count)
        subprocess.run(
            [sys.executable, "-m", "generator.cli", "generate", "--specs", "specs", "--out", "out"],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root / "out"


def _first_attribute(root: Path) -> str:
    """The first endpoint attribute of the client, read from the generated table."""
    for line in (root / "fal_models" / "_client.py").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith('"') and '": (' in stripped:
            return stripped.split('"')[1]
    raise RuntimeError(f"no endpoint in {root}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few runs, 20 endpoints")
    args = parser.parse_args(argv)
    print(render_table(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
