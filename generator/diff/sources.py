"""What ``falgen diff`` compares: spec files, specs folders, and a specs folder at a git
revision, each loaded as the generator loads it (repaired where the generator works around a
flaw; a spec whose endpoint cannot be built is an error)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError, SpecErrors
from ..loader import MAX_SPEC_BYTES, SpecFiles, parse_json, read_spec
from ..overlay import OVERLAY_SUFFIXES, SPEC_SUFFIX, OverlayFile, is_overlay, overlay_for
from .changes import DiffError
from .resolve import as_dict


def load_file(path: Path) -> tuple[str, dict[str, Any]]:
    """One spec file anywhere on disk: its endpoint id (from the document) and the document."""
    raw = _read(path)
    endpoint_id = _declared_endpoint_id(str(path), parse_json(str(path), raw))
    overlay = overlay_for(path.parent, path)  # an overlay beside it applies, as in a folder
    return endpoint_id, _validated(f"{endpoint_id}.json", str(path), raw, overlay)


def load_folder(specs_dir: Path) -> dict[str, dict[str, Any]]:
    """Every spec in a specs folder as the generator loads it (its overlay applied), keyed by
    endpoint id; all problems reported at once."""
    return _load_entries(_folder_entries(specs_dir), f"{specs_dir}/")


def load_overlay_effect(
    specs_dir: Path,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """What the overlays change: each spec that has one as published (parsed, not validated:
    the overlay may be what makes it valid) and as loaded."""
    entries = [entry for entry in _folder_entries(specs_dir) if entry.overlay is not None]
    published: dict[str, dict[str, Any]] = {}
    for entry in entries:
        try:
            published[entry.source.removesuffix(SPEC_SUFFIX)] = parse_json(entry.display, entry.raw)
        except SpecErrors:
            continue  # reported by the loading below
    return published, _load_entries(entries, f"{specs_dir}/")


@dataclass(frozen=True)
class _Entry:
    source: str  # the spec's path relative to the specs folder
    display: str  # how errors name it
    raw: bytes
    overlay: OverlayFile | None


def _folder_entries(specs_dir: Path) -> list[_Entry]:
    if not specs_dir.is_dir():
        raise SpecErrors([SpecError(str(specs_dir), "#", "specs folder does not exist")])
    files = SpecFiles.walk(specs_dir)
    entries = []
    errors = []
    for source, path in files.specs.items():
        try:
            spec = files.take(source)
        except OSError as problem:
            errors.append(SpecError(source, "#", f"cannot read file: {problem.strerror}"))
            continue
        if spec.overlay_errors is not None:
            errors.extend(spec.overlay_errors.errors)
            continue
        entries.append(_Entry(source, str(path), spec.raw, spec.overlay))
    errors.extend(files.orphans())
    if errors:
        raise SpecErrors(
            [SpecError(f"{specs_dir}/{e.source}", e.pointer, e.message) for e in errors]
        )
    return entries


def load_revision(specs_dir: Path, revision: str) -> dict[str, dict[str, Any]]:
    """The specs that ``specs_dir`` held at git ``revision`` (with the overlays it held),
    keyed by endpoint id.

    Uses ``git ls-tree`` and ``git show REV:path`` on the repository that contains
    ``specs_dir``, so it works from any working directory.
    """
    if not revision or revision.startswith("-"):
        # Would reach git as an option (``git show --output=...``): refuse it.
        raise DiffError(f"invalid git revision {revision!r}")
    folder = specs_dir.resolve()
    top = Path(
        _git(folder if folder.is_dir() else folder.parent, "rev-parse", "--show-toplevel")
        .decode()
        .strip()
    )
    relative = folder.relative_to(top.resolve()).as_posix()
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except DiffError:
        raise DiffError(f"unknown git revision {revision!r}") from None
    listing = _git(top, "ls-tree", "-r", "-z", "--name-only", revision, "--", relative)
    names = set(os.fsdecode(listing).split("\0"))
    prefix = f"{relative}/" if relative != "." else ""

    def show(name: str) -> bytes:
        return _git(top, "show", f"{revision}:{name}")

    entries = []
    for name in sorted(item for item in names if item.endswith(SPEC_SUFFIX)):
        if is_overlay(Path(name)):
            continue
        stem = name.removesuffix(SPEC_SUFFIX)
        overlays = [stem + suffix for suffix in OVERLAY_SUFFIXES if stem + suffix in names]
        overlay = OverlayFile(overlays[0][len(prefix) :], show(overlays[0])) if overlays else None
        entries.append(_Entry(name[len(prefix) :], f"{revision}:{name}", show(name), overlay))
    return _load_entries(entries, f"{revision}:{prefix}")


def _load_entries(entries: Sequence[_Entry], prefix: str) -> dict[str, dict[str, Any]]:
    """Load each entry; errors are named ``prefix`` + the file (spec or overlay) they are in."""
    documents: dict[str, dict[str, Any]] = {}
    errors: list[SpecError] = []
    for entry in entries:
        try:
            spec = read_spec(entry.source, entry.raw, entry.overlay)
        except SpecErrors as problem:
            errors.extend(
                SpecError(prefix + e.source, e.pointer, e.message) for e in problem.errors
            )
        else:
            documents[spec.endpoint_id] = spec.document
    if errors:
        raise SpecErrors(errors)
    return documents


def _validated(
    source: str, display: str, raw: bytes, overlay: OverlayFile | None
) -> dict[str, Any]:
    try:
        return read_spec(source, raw, overlay).document
    except SpecErrors as problem:
        raise SpecErrors(
            [
                SpecError(
                    display if e.source == source else str(Path(display).parent / e.source),
                    e.pointer,
                    e.message,
                )
                for e in problem.errors
            ]
        ) from None


def _declared_endpoint_id(display: str, document: dict[str, Any]) -> str:
    """The id a document declares (``info.x-fal-metadata.endpointId``) or its submit path names."""
    declared = as_dict(as_dict(document.get("info")).get("x-fal-metadata")).get("endpointId")
    if isinstance(declared, str) and declared:
        return declared
    paths = as_dict(document.get("paths"))
    submits = [path.lstrip("/") for path in paths if isinstance(path, str) and "{" not in path]
    if len(submits) == 1 and submits[0]:
        return submits[0]
    raise SpecErrors(
        [
            SpecError(
                display, "#/info/x-fal-metadata/endpointId", "cannot tell which endpoint this is"
            )
        ]
    )


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(MAX_SPEC_BYTES + 1)  # a larger one is refused by parse_json
    except OSError as problem:
        raise SpecErrors(
            [SpecError(str(path), "#", f"cannot read file: {problem.strerror}")]
        ) from None


def _git(cwd: Path, *arguments: str) -> bytes:
    try:
        completed = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, check=False)
    except OSError as problem:
        raise DiffError(f"cannot run git: {problem}") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip() or "unknown revision"
        raise DiffError(f"git {arguments[0]} failed: {detail}")
    return completed.stdout
