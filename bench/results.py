"""One row of the benchmark table, and the table itself: every benchmark module reports here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.measure import Stats


@dataclass(frozen=True)
class Result:
    """A measured figure beside what it is compared with (measured in the same run).

    ``ours`` and ``baseline`` are formatted figures (see :func:`timing`); ``ratio`` is in the
    direction where bigger is better for us; ``met`` is None when there is no target.
    """

    name: str
    compares: str  # what the row compares, and how: like with like
    ours: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def timing(stats: Stats, *, unit: str = "s", cpu: bool = True) -> str:
    """``median (min-max), CPU median`` of wall times, in ``unit`` ("s" or "ms")."""
    scale = 1000 if unit == "ms" else 1
    low, high = stats.spread
    text = f"{stats.wall * scale:.3g} {unit} ({low * scale:.3g}-{high * scale:.3g})"
    if cpu:
        text += f", CPU {stats.cpu * scale:.3g} {unit}"
    return text


def mebibytes(count: int) -> str:
    return f"{count / 2**20:.0f} MiB"


def render_table(results: Sequence[Result]) -> str:
    """A Markdown table (also readable on a terminal)."""
    lines = [
        "| benchmark | what it compares | ours | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        ratio = f"{result.ratio:.2f}x" if result.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[result.met]
        lines.append(
            f"| {result.name} | {result.compares} | {result.ours} | {result.baseline} | {ratio} "
            f"| {result.target} | {met} |"
        )
    return "\n".join(lines)
