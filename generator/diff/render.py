"""Reports of a diff: text for a terminal, Markdown for a pull request, JSON for machines, and
the changelog entry of a release."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from typing import TextIO

from ..errors import printable
from .changes import SEVERITIES, DiffReport, Severity

_TEXT_LABELS: dict[Severity, str] = {
    "breaking": "BREAKING",
    "behaviour": "BEHAVIOUR",
    "deprecation": "DEPRECATED",
    "addition": "ADDED",
    "documentation": "DOCS",
}
_ANSI: dict[Severity, str] = {
    "breaking": "\x1b[1;31m",
    "behaviour": "\x1b[1;33m",
    "deprecation": "\x1b[33m",
    "addition": "\x1b[32m",
    "documentation": "\x1b[2m",
}
_ANSI_RESET = "\x1b[0m"
_ANSI_BOLD = "\x1b[1m"
_MARKDOWN_LABELS: dict[Severity, str] = {
    "breaking": ":boom: breaking",
    "behaviour": ":warning: behaviour",
    "deprecation": ":hourglass: deprecated",
    "addition": ":sparkles: addition",
    "documentation": ":memo: docs",
}
_NOUNS: dict[Severity, tuple[str, str]] = {
    "breaking": ("breaking change", "breaking changes"),
    "behaviour": ("behaviour change", "behaviour changes"),
    "deprecation": ("deprecation", "deprecations"),
    "addition": ("addition", "additions"),
    "documentation": ("documentation change", "documentation changes"),
}


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _summary(report: DiffReport) -> str:
    counts = report.counts()
    parts = [
        f"{count} {_NOUNS[severity][count != 1]}" for severity, count in counts.items() if count
    ]
    endpoints = len(report.by_endpoint())
    noun = "endpoint" if endpoints == 1 else "endpoints"
    return f"{endpoints} {noun} changed: {', '.join(parts)}"


def render_text(report: DiffReport, *, color: bool = False) -> str:
    """Human-readable report: one block per endpoint, breaking changes first."""
    if not report.changes:
        return "No API changes.\n"

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_ANSI_RESET}" if color else text

    # Names and values come from specs: printed escaped, never as control sequences.
    lines: list[str] = []
    width = max(len(label) for label in _TEXT_LABELS.values())
    for endpoint_id, changes in report.by_endpoint().items():
        lines.append(paint(printable(endpoint_id), _ANSI_BOLD))
        for change in changes:
            label = paint(f"{_TEXT_LABELS[change.severity]:<{width}}", _ANSI[change.severity])
            where = f"{printable(change.path)}: " if change.path else ""
            lines.append(f"  {label}  {where}{printable(change.message)}")
        lines.append("")
    lines.append(f"{_summary(report)}.")
    lines.append(f"Suggested version bump: {report.semver_bump()}.")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes, no HTML, no line breaks, no control
    characters)."""
    escaped = (
        printable(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
    return " ".join(escaped.split())


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{_md_cell(text)}{fence}"


def render_markdown(report: DiffReport) -> str:
    """A pull-request comment: summary line, then one table per endpoint."""
    lines = ["## API changes", ""]
    if not report.changes:
        lines.append("No API changes.")
        return "\n".join(lines) + "\n"
    lines.append(f"{_summary(report)}. Suggested version bump: **{report.semver_bump()}**.")
    for endpoint_id, changes in report.by_endpoint().items():
        lines += [
            "",
            f"### {_md_code(endpoint_id)}",
            "",
            "| | Path | Change |",
            "| --- | --- | --- |",
        ]
        for change in changes:
            where = _md_code(change.path) if change.path else "(endpoint)"
            lines.append(
                f"| {_MARKDOWN_LABELS[change.severity]} | {where} | {_md_cell(change.message)} |"
            )
    return "\n".join(lines) + "\n"


def render_json(report: DiffReport) -> str:
    """JSON in ASCII: names from specs cannot reach a terminal as control characters."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=True) + "\n"


_CHANGELOG_SECTIONS: dict[Severity, str] = {
    "breaking": "Breaking changes",
    "behaviour": "Behaviour changes",
    "deprecation": "Deprecated",
    "addition": "Added",
    "documentation": "Documentation",
}


def changelog_entry(report: DiffReport, version: str, date: dt.date | str) -> str:
    """A Markdown changelog section for a release made from ``report``."""
    day = date.isoformat() if isinstance(date, dt.date) else date
    lines = [f"## {version} ({day})", ""]
    if not report.changes:
        lines.append("No API changes.")
        return "\n".join(lines) + "\n"
    for severity in SEVERITIES:
        entries = [change for change in report.changes if change.severity == severity]
        if not entries:
            continue
        lines += [f"### {_CHANGELOG_SECTIONS[severity]}", ""]
        for change in entries:
            where = f" {_md_code(change.path)}:" if change.path else ""
            lines.append(f"- {_md_code(change.endpoint_id)}:{where} {change.message}")
        lines.append("")
    return "\n".join(lines)


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
