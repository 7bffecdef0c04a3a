"""Generation speed and memory: falgen on 1,000 synthetic endpoints and on fal's real catalogue,
next to datamodel-codegen and openapi-python-client on samples of the same specs.

Every figure is a command run as a user runs it, in a subprocess, in a fresh temporary folder:

- ``falgen generate --specs SPECS --out OUT`` into a new output folder with an empty local cache
  (a first run): wall and CPU time (the whole process tree), and the tree's peak resident
  memory;
- the other generators two ways, because each way favours someone: one process per spec (what
  a user of their command line runs: interpreter start and imports paid per spec), and one
  process looping over many specs (bench/amortised.py: start-up paid once);
- ``falgen generate`` again with nothing changed, and after one spec changed (a different spec
  each round: a reworded description and one new field).

Rounds are interleaved: falgen, then each other generator, then falgen again... so that the
machine's state affects everyone alike. Per-endpoint figures divide a run by its spec count:
falgen's include everything it makes per endpoint (models, sync and async clients, a CLI
command, a docs page); datamodel-codegen makes the pydantic models only, openapi-python-client
a client package per spec.

    python -m bench.generation [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.measure import Sample, Stats, interleaved, run_command
from bench.results import Result, mebibytes, render_table, timing
from bench.synthetic_specs import write_specs
from generator.cache import CACHE_VARIABLE
from generator.fetch import write_catalog_answer

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "catalog"
SEED = 0
OTHERS = ("datamodel-codegen", "openapi-python-client")


def tool(name: str) -> Path | None:
    """A console script installed next to the running Python, or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def environment() -> dict[str, str]:
    """The subprocesses' environment: this Python's scripts first on PATH (black, ruff...)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def catalog_specs(folder: Path) -> list[str]:
    """fal's catalogue answers (../shared/catalog) as a specs folder, as ``falgen fetch`` lays
    it out; the endpoint ids, or none when the catalogue is not beside the checkout."""
    return [
        endpoint_id
        for answer in sorted(CATALOG.glob("*.json"))
        for endpoint_id in write_catalog_answer(json.loads(answer.read_bytes()), folder)
    ]


def sample_of(specs: Path, ids: Sequence[str], size: int) -> list[Path]:
    """``size`` specs spread evenly over the list (deterministic)."""
    step = max(1, len(ids) // size)
    return [specs / f"{endpoint_id}.json" for endpoint_id in list(ids)[::step][:size]]


def change_one_spec(path: Path, round_number: int) -> None:
    """What an upstream model update looks like: a reworded description and one new field."""
    document = json.loads(path.read_text(encoding="utf-8"))
    endpoint = f"/{path.stem}"
    operation = next(
        item["post"] for key, item in document["paths"].items() if key.endswith(endpoint)
    )
    name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    inputs = document["components"]["schemas"][name.rsplit("/", 1)[1]]
    first = next(iter(inputs["properties"]))
    inputs["properties"][first]["description"] = f"Reworded by the benchmark ({round_number})."
    inputs["properties"][f"benchmark_flag_{round_number}"] = {
        "type": "boolean",
        "default": False,
        "description": "A field the benchmark added.",
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


class Corpus:
    """One specs folder and the commands run on it."""

    def __init__(self, root: Path, label: str, ids: list[str], sample: int) -> None:
        self.root, self.label, self.ids = root, label, ids
        self.specs, self.out = root / "specs", root / "out"
        self.sample = sample_of(self.specs, ids, sample)
        self.env = environment()
        self.falgen = tool("falgen")
        if self.falgen is None:
            raise RuntimeError("the falgen command is not installed (pip install -e .)")

    def generate(self, *, fresh: bool) -> Sample:
        """``falgen generate``; ``fresh``: into a new folder with an empty local cache (see
        generator/cache.py), as a first run on a machine, else with the corpus's cache."""
        cache = self.root / ("cold-cache" if fresh else "cache")
        if fresh:
            shutil.rmtree(self.out, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
        command = [self.falgen, "generate", "--specs", self.specs, "--out", self.out]
        env = {**self.env, CACHE_VARIABLE: str(cache)}
        sample = run_command(command, cwd=self.root, env=env, check=False)
        if sample.returncode not in (0, 3):  # 3: generated, some endpoints skipped
            raise RuntimeError(f"falgen generate failed:\n{sample.output[-4000:]}")
        return sample

    def per_process(self, name: str) -> Callable[[int], Sample]:
        """The other generator, one command per spec of the sample: one summed sample."""
        script = tool(name)

        def run(round_number: int) -> Sample:
            if script is None:
                raise RuntimeError(f"{name} is not installed (pip install -e '.[bench]')")
            total = Sample(0.0, 0.0, 0)
            counts = {"clean": 0, "warned": 0, "failed": 0}
            for index, spec in enumerate(self.sample):
                target = self.root / name / f"{round_number}-{index}"
                target.parent.mkdir(parents=True, exist_ok=True)
                command = _command(script, name, spec, target)
                one = run_command(command, cwd=self.root, env=self.env, check=False)
                counts[_outcome(name, one)] += 1
                total = Sample(
                    total.wall + one.wall,
                    total.cpu + one.cpu,
                    max(total.peak_rss, one.peak_rss),
                    output=json.dumps(counts),  # as bench/amortised.py reports them
                )
            return total

        return run

    def amortised(self, name: str) -> Callable[[int], Sample]:
        def run(round_number: int) -> Sample:
            target = self.root / f"{name}-amortised" / str(round_number)
            command = [sys.executable, "-m", "bench.amortised", name, target, *self.sample]
            return run_command(command, cwd=ROOT, env=self.env)

        return run


def _outcome(name: str, sample: Sample) -> str:
    """How one command went: ``failed`` (non-zero exit), ``warned`` (openapi-python-client
    dropped something it could not convert, and said so), else ``clean``. datamodel-codegen's
    own notices (a FutureWarning about its defaults) are not problems with the spec."""
    if sample.returncode != 0:
        return "failed"
    if name == "openapi-python-client" and "warning" in sample.output.lower():
        return "warned"
    return "clean"


def _command(script: Path, name: str, spec: Path, target: Path) -> list[str | Path]:
    if name == "datamodel-codegen":
        return [
            script,
            "--input",
            spec,
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--output",
            target.with_suffix(".py"),
        ]
    return [script, "generate", "--path", spec, "--output-path", target, "--overwrite"]


def run(quick: bool = False) -> list[Result]:
    count, sample, repeats = (20, 2, 1) if quick else (1000, 12, 3)
    judged = not quick
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="falgen-bench-") as temp:
        synthetic = Corpus(
            Path(temp) / "synthetic",
            f"{count} synthetic endpoints",
            write_specs(Path(temp) / "synthetic" / "specs", count, SEED),
            sample,
        )
        results += _full(
            synthetic, repeats, judged, wall_target=20.0, cpu_target=40.0, memory_target=300 * 2**20
        )
        results += _incremental(synthetic, 2 if quick else 5, judged)
        catalog_root = Path(temp) / "catalog"
        ids = catalog_specs(catalog_root / "specs")
        if ids:
            real = Corpus(catalog_root, f"fal's catalogue, {len(ids)} real endpoints", ids, sample)
            results += _full(real, repeats, judged, wall_target=15.0)
            results += _incremental(real, 2 if quick else 5, judged, targets=False)
    return results


def _full(
    corpus: Corpus,
    repeats: int,
    judged: bool,
    *,
    wall_target: float,
    cpu_target: float | None = None,
    memory_target: int | None = None,
) -> list[Result]:
    contenders: dict[str, Callable[[int], Sample]] = {
        "falgen": lambda _: corpus.generate(fresh=True)
    }
    for name in OTHERS:
        if tool(name) is not None:
            contenders[f"{name}, one process per spec"] = corpus.per_process(name)
            contenders[f"{name}, one process for all"] = corpus.amortised(name)
    stats = interleaved(contenders, repeats)
    ours = stats["falgen"]
    met = ours.wall <= wall_target and (cpu_target is None or ours.cpu <= cpu_target)
    target = f"<= {wall_target:g} s" + (f", CPU <= {cpu_target:g} s" if cpu_target else "")
    results = [
        Result(
            name=f"full generation, {corpus.label}",
            compares="falgen generate into a new folder: whole package, CLI and docs",
            ours=timing(ours),
            target=target,
            met=met if judged else None,
            note=f"{repeats} runs; falgen said {_summary(ours)!r}",
        ),
    ]
    results.append(
        Result(
            name=f"peak memory, full generation, {corpus.label}",
            compares="largest total resident memory of falgen's process tree",
            ours=mebibytes(ours.peak_rss),
            target=f"<= {memory_target // 2**20} MiB" if memory_target else "",
            met=(ours.peak_rss <= memory_target) if judged and memory_target else None,
        )
    )
    mine = ours.per(len(corpus.ids))
    for name, theirs in stats.items():
        if name == "falgen":
            continue
        count = len(corpus.sample)
        per = theirs.per(count)
        results.append(
            Result(
                name=f"per endpoint vs {name}, {corpus.label}",
                compares=(
                    f"falgen's full generation / {len(corpus.ids)} against {name} on "
                    f"{count} of the same specs / {count}"
                ),
                ours=timing(mine, unit="ms"),
                baseline=timing(per, unit="ms"),
                ratio=per.wall / mine.wall if mine.wall > 0 else None,
                note=f"specs by outcome: {_last_line(theirs)}",
            )
        )
    return results


def _incremental(
    corpus: Corpus, repeats: int, judged: bool, *, targets: bool = True
) -> list[Result]:
    """No-op and one-spec-changed regenerations, after a first one (which fills the cache)."""
    shutil.rmtree(corpus.out, ignore_errors=True)
    corpus.generate(fresh=False)
    noop = interleaved({"noop": lambda _: corpus.generate(fresh=False)}, repeats)["noop"]
    specs = sorted(corpus.specs.rglob("*.json"))

    def one_changed(round_number: int) -> Sample:
        path = specs[(round_number * 7919) % len(specs)]
        change_one_spec(path, round_number)
        return corpus.generate(fresh=False)

    changed = interleaved({"changed": one_changed}, repeats)["changed"]
    return [
        Result(
            name=f"nothing changed, {corpus.label}",
            compares="falgen generate on its own up-to-date output (files verified on disk)",
            ours=timing(noop),
            target="<= 0.3 s" if targets else "",
            met=noop.wall <= 0.3 if judged and targets else None,
            note=f"{repeats} runs; falgen said {_summary(noop)!r}",
        ),
        Result(
            name=f"one spec changed, {corpus.label}",
            compares="falgen generate after a description reworded and a field added in 1 spec",
            ours=timing(changed),
            target="<= 1 s" if targets else "",
            met=changed.wall <= 1.0 if judged and targets else None,
            note=f"{repeats} runs, a different spec each; falgen said {_summary(changed)!r}",
        ),
    ]


def _last_line(stats: Stats) -> str:
    lines = stats.samples[-1].output.strip().splitlines()
    return lines[-1] if lines else ""


def _summary(stats: Stats) -> str:
    """falgen's own summary of its last run (what it generated), not its warnings."""
    lines = stats.samples[-1].output.strip().splitlines()
    said = [line for line in lines if " added, " in line or line.endswith("is up to date")]
    return said[0] if said else _last_line(stats)


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
