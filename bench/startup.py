"""Start-up costs of the generated package beside the official fal-client's.

Each figure is a fresh interpreter (``python -c ...``), ours and theirs interleaved round by
round, median and spread of the rounds, CPU beside wall:

- ``import``: ``import fal_models`` (the 13 seed endpoints in generated/, and 1,000 synthetic
  ones from bench/synthetic_specs.py) against ``import fal_client``, both less a bare
  interpreter's start measured in the same rounds;
- first use: ours = import, a client, one endpoint, and its first request built and sent (to an
  ``httpx.MockTransport`` answering like the queue, so no network is involved) against fal-client's
  import and client (what the target names), both less the bare interpreter;
- ``fal-models --help`` (all commands listed) and one command's ``--help`` at 1,000 endpoints:
  the whole process, interpreter start included, as a user waits for it.

The 1,000-endpoint package is generated once into ``$TMPDIR/falgen-bench-cache`` (keyed by the
generator's salt).

    python -m bench.startup [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.measure import Sample, interleaved, run_command
from bench.results import Result, render_table, timing
from bench.synthetic_specs import write_specs

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
CACHE = Path(tempfile.gettempdir()) / "falgen-bench-cache"
FIRST_USE = """
import httpx
from fal_models import FalClient

def queue(request):
    base = "https://queue.fal.run/fal-ai/flux-1/requests/r"
    return httpx.Response(
        200,
        json={
            "request_id": "r",
            "status_url": base + "/status",
            "response_url": base,
            "cancel_url": base + "/cancel",
        },
    )

client = FalClient(key="k", http_client=httpx.Client(transport=httpx.MockTransport(queue)))
client.flux_1_schnell.submit(prompt="a lighthouse")
"""
THEIR_FIRST_USE = "import fal_client; fal_client.SyncClient(key='k')"


def environment(root: Path | None) -> dict[str, str]:
    """This process's environment for a child interpreter with ``root`` on its path. Bytecode
    caches are written and used, as for an installed package (pip compiles what it installs):
    with PYTHONDONTWRITEBYTECODE set, every run would compile our package afresh, while
    fal-client's came compiled with its installation."""
    dropped = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    return env


def python(code: str, root: Path | None) -> Sample:
    return run_command([sys.executable, "-c", code], env=environment(root))


def script(arguments: Sequence[str], root: Path) -> Sample:
    code = f"from fal_models.cli import main; raise SystemExit(main({list(arguments)!r}))"
    return run_command([sys.executable, "-c", code], env=environment(root))


def run(quick: bool = False) -> list[Result]:
    rounds = 5 if quick else 30
    count = 20 if quick else 1000
    big = _package(count)
    command = _first_command(big)
    for code in ("import fal_client", "import fal_models", FIRST_USE):  # compile caches first
        python(code, GENERATED)
    stats = interleaved(
        {
            "bare": lambda _: python("pass", None),
            "theirs import": lambda _: python("import fal_client", None),
            "ours import 13": lambda _: python("import fal_models", GENERATED),
            "ours import big": lambda _: python("import fal_models", big),
            "theirs first use": lambda _: python(THEIR_FIRST_USE, None),
            "ours first use": lambda _: python(FIRST_USE, GENERATED),
            "help all": lambda _: script(["--help"], big),
            "help one": lambda _: script([command, "--help"], big),
        },
        rounds,
    )
    bare = stats["bare"]
    theirs_import = stats["theirs import"].minus(bare)
    theirs_first = stats["theirs first use"].minus(bare)
    results = []
    for label, key in (
        ("13 endpoints", "ours import 13"),
        (f"{count} endpoints", "ours import big"),
    ):
        ours = stats[key].minus(bare)
        results.append(
            Result(
                name=f"import, {label}",
                compares="import fal_models against import fal_client, less a bare interpreter",
                ours=timing(ours, unit="ms"),
                baseline=timing(theirs_import, unit="ms"),
                ratio=theirs_import.wall / ours.wall if ours.wall > 0 else None,
            )
        )
    ours_first = stats["ours first use"].minus(bare)
    results.append(
        Result(
            name="first use",
            compares=(
                "ours: import, client, one endpoint, first request built and sent to a mock "
                "transport; theirs: import fal_client and a client; both less a bare interpreter"
            ),
            ours=timing(ours_first, unit="ms"),
            baseline=timing(theirs_first, unit="ms"),
            ratio=theirs_first.wall / ours_first.wall if ours_first.wall > 0 else None,
            target="<= fal-client's",
            met=None if quick else ours_first.wall <= theirs_first.wall,
        )
    )
    for key, label in (
        ("help all", "fal-models --help"),
        ("help one", f"fal-models {command} --help"),
    ):
        results.append(
            Result(
                name=f"{label}, {count} endpoints",
                compares="the whole process, interpreter start included",
                ours=timing(stats[key], unit="ms"),
                baseline=f"bare interpreter: {timing(bare, unit='ms')}",
                target="<= 100 ms" if key == "help all" else "",
                met=(stats[key].wall <= 0.1) if not quick and key == "help all" else None,
                note=f"{rounds} rounds",
            )
        )
    return results


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


def _first_command(root: Path) -> str:
    """The first CLI command of the package at ``root`` (from its command table)."""
    code = "from fal_models.cli.commands import COMMANDS; print(next(iter(COMMANDS)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment(root),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few rounds, 20 endpoints")
    args = parser.parse_args(argv)
    print(render_table(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
