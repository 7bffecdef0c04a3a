"""What ``falgen diff`` compares: spec files, specs folders, and a specs folder at a git
revision, each validated as the generator loads it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import SpecError, SpecErrors
from ..loader import discover, load_spec_bytes, parse_json
from .changes import DiffError
from .resolve import as_dict


def load_file(path: Path) -> tuple[str, dict[str, Any]]:
    """One spec file anywhere on disk: its endpoint id (from the document) and the document."""
    raw = _read(path)
    endpoint_id = _declared_endpoint_id(str(path), parse_json(str(path), raw))
    return endpoint_id, _validated(f"{endpoint_id}.json", str(path), raw)


def load_folder(specs_dir: Path) -> dict[str, dict[str, Any]]:
    """Every spec in a specs folder, keyed by endpoint id; all problems reported at once."""
    if not specs_dir.is_dir():
        raise SpecErrors([SpecError(str(specs_dir), "#", "specs folder does not exist")])
    entries = [
        (path.relative_to(specs_dir).as_posix(), str(path), _read(path))
        for path in discover(specs_dir)
    ]
    return _load_entries(entries)


def load_revision(specs_dir: Path, revision: str) -> dict[str, dict[str, Any]]:
    """The specs that ``specs_dir`` held at git ``revision``, keyed by endpoint id.

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
    entries = []
    names = os.fsdecode(listing).split("\0")
    for name in sorted(item for item in names if item.endswith(".json")):
        source = name[len(relative) + 1 :] if relative != "." else name
        entries.append((source, f"{revision}:{name}", _git(top, "show", f"{revision}:{name}")))
    return _load_entries(entries)


def _load_entries(entries: Sequence[tuple[str, str, bytes]]) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    errors: list[SpecError] = []
    for source, display, raw in entries:
        try:
            spec = load_spec_bytes(source, raw)
        except SpecErrors as problem:
            errors.extend(SpecError(display, e.pointer, e.message) for e in problem.errors)
        else:
            documents[spec.endpoint_id] = spec.document
    if errors:
        raise SpecErrors(errors)
    return documents


def _validated(source: str, display: str, raw: bytes) -> dict[str, Any]:
    try:
        return load_spec_bytes(source, raw).document
    except SpecErrors as problem:
        raise SpecErrors(
            [SpecError(display, e.pointer, e.message) for e in problem.errors]
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
        return path.read_bytes()
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
