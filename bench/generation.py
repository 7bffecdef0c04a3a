"""Generation speed: falgen on 1,000 synthetic endpoints, next to other generators on a sample.

Everything runs as a user would run it, one command per subprocess, in a fresh temporary folder:

- ``falgen generate --specs SPECS --out OUT`` on all the synthetic specs
  (bench/synthetic_specs.py), into a new output folder: total seconds and seconds per endpoint;
- ``datamodel-codegen --input SPEC --input-file-type openapi --output-model-type
  pydantic_v2.BaseModel --output out.py`` (its default formatting) once per spec of a sample of
  the same specs: seconds per endpoint, and the ratio theirs/ours per endpoint;
- ``openapi-python-client generate --path SPEC --output-path OUT --overwrite`` likewise; it exits
  0 but prints warnings when it drops an operation it cannot handle (e.g. fal's object default on
  ``image_size``), so only clean runs are counted and the others are reported;
- ``falgen generate`` again on the unchanged output (no-op), and after changing one spec.

    python -m bench.generation [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.results import Result, render_table
from bench.synthetic_specs import write_specs

FULL_COUNT = 1000
FULL_SAMPLE = 15
QUICK_COUNT = 20
QUICK_SAMPLE = 2
SEED = 0
OPC_PACKAGE = "openapi-python-client"
# Where the benchmark installs openapi-python-client when it is not next to this Python.
OPC_VENV = Path(tempfile.gettempdir()) / "falgen-bench-cache" / "opc-venv"


@dataclass(frozen=True)
class Timed:
    seconds: float
    returncode: int
    output: str  # stdout and stderr


def timed(command: Sequence[str | Path], *, cwd: Path, env: dict[str, str]) -> Timed:
    """Run a command to completion; its wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    return Timed(seconds, done.returncode, done.stdout + done.stderr)


def tool(name: str) -> Path | None:
    """A console script installed next to the running Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def opc_tool() -> tuple[Path | None, str]:
    """openapi-python-client: ours if installed (``.[bench]``), else a venv of its own."""
    found = tool(OPC_PACKAGE)
    if found is not None:
        return found, ""
    script = OPC_VENV / ("Scripts" if os.name == "nt" else "bin") / OPC_PACKAGE
    if not script.is_file():
        venv.create(OPC_VENV, with_pip=True, clear=True)
        pip = script.with_name("pip")
        install = subprocess.run(
            [str(pip), "install", "--quiet", OPC_PACKAGE],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0 or not script.is_file():
            return None, f"could not install {OPC_PACKAGE}: {install.stderr.strip()[-300:]}"
    return script, f"from its own venv in {OPC_VENV}"


def environment(*tools: Path) -> dict[str, str]:
    """The environment for the subprocesses: the tools' folders first on PATH (black, ruff)."""
    env = dict(os.environ)
    folders = [str(path.parent) for path in tools]
    env["PATH"] = os.pathsep.join([*dict.fromkeys(folders), env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    return env


def sample_of(specs: Path, ids: Sequence[str], size: int) -> list[Path]:
    """``size`` specs spread evenly over the list (deterministic)."""
    step = max(1, len(ids) // size)
    return [specs / f"{endpoint_id}.json" for endpoint_id in list(ids)[::step][:size]]


def change_one_spec(path: Path) -> None:
    """What an upstream model update looks like: a reworded description and one new field."""
    document = json.loads(path.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    body = document["paths"][f"/{document['info']['x-fal-metadata']['endpointId']}"]
    name = body["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    inputs = schemas[name.rsplit("/", 1)[1]]
    first = inputs["x-fal-order-properties"][0]
    inputs["properties"][first]["description"] = "Reworded by the benchmark."
    inputs["properties"]["benchmark_flag"] = {
        "title": "Benchmark Flag",
        "type": "boolean",
        "default": False,
        "description": "A field the benchmark added.",
    }
    inputs["x-fal-order-properties"].append("benchmark_flag")
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _checked(result: Timed, what: str) -> Timed:
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed with exit code {result.returncode}:\n{result.output}")
    return result


def _said(result: Timed) -> str:
    """The command's last line: shows whether a regeneration was in fact a no-op."""
    lines = result.output.strip().splitlines()
    return lines[-1] if lines else ""


def _opc_clean(result: Timed) -> bool:
    return result.returncode == 0 and "warning" not in result.output.lower()


def run(quick: bool = False) -> list[Result]:
    count = QUICK_COUNT if quick else FULL_COUNT
    size = QUICK_SAMPLE if quick else FULL_SAMPLE
    falgen = tool("falgen")
    if falgen is None:
        raise RuntimeError("the falgen command is not installed (pip install -e .)")
    dcg = tool("datamodel-codegen")
    opc, opc_note = opc_tool()
    with tempfile.TemporaryDirectory(prefix="falgen-bench-") as temp:
        root = Path(temp)
        specs, out = root / "specs", root / "out"
        ids = write_specs(specs, count, SEED)
        env = environment(*(path for path in (falgen, dcg, opc) if path is not None))
        generate = [falgen, "generate", "--specs", specs, "--out", out]
        full = _checked(timed(generate, cwd=root, env=env), "falgen generate")
        noop = _checked(timed(generate, cwd=root, env=env), "falgen generate (no-op)")
        change_one_spec(specs / f"{ids[len(ids) // 2]}.json")
        changed = _checked(timed(generate, cwd=root, env=env), "falgen generate (one change)")
        sample = sample_of(specs, ids, size)
        dcg_times: list[float] = []
        dcg_failed = 0
        for index, spec in enumerate(sample):
            if dcg is None:
                break
            command = [
                dcg,
                "--input",
                spec,
                "--input-file-type",
                "openapi",
                "--output-model-type",
                "pydantic_v2.BaseModel",
                "--output",
                root / "dcg" / f"models_{index}.py",
            ]
            (root / "dcg").mkdir(exist_ok=True)
            result = timed(command, cwd=root, env=env)
            if result.returncode == 0:
                dcg_times.append(result.seconds)
            else:
                dcg_failed += 1
        opc_times: list[float] = []
        opc_warned = opc_failed = 0
        for index, spec in enumerate(sample):
            if opc is None:
                break
            target = root / "opc" / f"client_{index}"
            command = [opc, "generate", "--path", spec, "--output-path", target, "--overwrite"]
            (root / "opc").mkdir(exist_ok=True)
            result = timed(command, cwd=root, env=env)
            if _opc_clean(result):
                opc_times.append(result.seconds)
            elif result.returncode == 0:
                opc_warned += 1
            else:
                opc_failed += 1

    ours = full.seconds / count
    sized = "" if not quick else " (quick sizes: targets not judged)"

    def judged(ok: bool) -> bool | None:
        return None if quick else ok

    results = [
        Result(
            name=f"full generation, {count} endpoints (falgen generate, fresh output)",
            value=full.seconds,
            unit="s",
            target="<= 20 s",
            met=judged(full.seconds <= 20),
            note=f"falgen said {_said(full)!r}{sized}",
        ),
        Result(
            name="full generation, per endpoint",
            **_per_endpoint(ours),
            note=f"total / {count}, start-up included",
        ),
    ]
    results.append(
        _baseline(
            "vs datamodel-codegen CLI (models only), per endpoint",
            ours,
            dcg_times,
            f"datamodel-codegen, one call per spec, n={len(dcg_times)}/{len(sample)}",
            failures=(
                f"{dcg_failed} failed" if dcg_failed else ("not installed" if dcg is None else "")
            ),
            target=">= 35x",
            judge=None if quick else 35.0,
        )
    )
    opc_problems = ", ".join(
        part
        for part in (
            f"{opc_warned} generated with warnings (operations dropped)" if opc_warned else "",
            f"{opc_failed} failed" if opc_failed else "",
            opc_note,
        )
        if part
    )
    results.append(
        _baseline(
            "vs openapi-python-client generate, per endpoint",
            ours,
            opc_times,
            f"openapi-python-client, one call per spec, n={len(opc_times)}/{len(sample)} clean",
            failures=opc_problems,
            target="",
            judge=None,
        )
    )
    results += [
        Result(
            name=f"no-op regeneration, {count} endpoints",
            value=noop.seconds,
            unit="s",
            target="< 1 s",
            met=judged(noop.seconds < 1),
            note=f"falgen said {_said(noop)!r}{sized}",
        ),
        Result(
            name=f"regeneration after one spec changed, {count} endpoints",
            value=changed.seconds,
            unit="s",
            target="< 2 s",
            met=judged(changed.seconds < 2),
            note=f"one description reworded and one field added; falgen said {_said(changed)!r}"
            + sized,
        ),
    ]
    return results


def _per_endpoint(seconds: float) -> dict[str, Any]:
    """Value and unit of a per-endpoint time: milliseconds below one second."""
    return (
        {"value": seconds * 1000, "unit": "ms"} if seconds < 1 else {"value": seconds, "unit": "s"}
    )


def _baseline(
    name: str,
    ours: float,
    times: Sequence[float],
    label: str,
    *,
    failures: str,
    target: str,
    judge: float | None,
) -> Result:
    """Ours per endpoint next to a baseline's median per endpoint."""
    if not times:
        return Result(
            name=name,
            **_per_endpoint(ours),
            baseline=f"{label}: no successful run",
            target=target,
            note=failures,
        )
    theirs = statistics.median(times)
    ratio = theirs / ours
    return Result(
        name=name,
        **_per_endpoint(ours),
        baseline=f"{label}: {theirs:.2f} s/endpoint (median)",
        ratio=ratio,
        target=target,
        met=None if judge is None else ratio >= judge,
        note=failures,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generation")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args(argv)
    results = run(quick=args.quick)
    print(render_table(results))
    notes = [f"- {result.name}: {result.note}" for result in results if result.note]
    if notes:
        print("\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
