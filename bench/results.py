"""One row of the benchmark table, and the table itself: every benchmark module reports here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """A measured figure, with what it is compared with (measured in the same run) and its target.

    ``ratio`` is ours relative to the baseline in the direction where bigger is better for us
    (e.g. ``baseline_seconds / our_seconds``); ``met`` is None when there is no target.
    """

    name: str
    value: float
    unit: str
    baseline: str = ""  # e.g. "datamodel-codegen CLI: 1.92 s/endpoint"
    ratio: float | None = None
    target: str = ""  # e.g. "<= 20 s"
    met: bool | None = None
    note: str = ""


def render_table(results: Sequence[Result]) -> str:
    """A Markdown table (also readable on a terminal)."""
    header = "| benchmark | ours | baseline (same run) | ratio | target | met |"
    lines = [header, "| --- | --- | --- | --- | --- | --- |"]
    for result in results:
        ratio = f"{result.ratio:.2f}x" if result.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[result.met]
        value = f"{result.value:.3g} {result.unit}".strip()
        lines.append(
            f"| {result.name} | {value} | {result.baseline} | {ratio} | {result.target} | {met} |"
        )
    return "\n".join(lines)
