"""Formatting, and writing or checking the output tree.

The output folder is owned by the generator: it is replaced as a whole, atomically, and only
when it is empty, missing, or carries the manifest of an earlier generation.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import GenerationError

MANIFEST = ".falgen-manifest.json"


# One line length for the generator's code, the runtime it ships and the code it generates.
LINE_LENGTH = 100
TARGET_VERSION = "py311"


def format_files(files: Mapping[str, str]) -> dict[str, str]:
    """``files`` with every ``.py`` file formatted as black formats it.

    ruff's formatter does most of the work, all files in one run: it formats a catalogue's tree
    in well under a second, where black takes a minute. Its output is black's for the code
    falgen emits (the templates spell the few constructs where the two differ the way both agree
    on), except in two places: the width of non-ASCII text in code, and a split before a
    default of ``[]`` or a negative number. Files with either are formatted again by black.
    The tests run ``black --check`` over every generated tree as the proof.
    """
    names = sorted(name for name in files if name.endswith(".py"))
    if not names:
        return dict(files)
    with tempfile.TemporaryDirectory(prefix="falgen-format-") as folder:
        root = Path(folder)
        for index, name in enumerate(names):
            # Flat numbered names: the paths come from specs and are not needed to format.
            (root / f"{index}.py").write_text(files[name], encoding="utf-8")
        _ruff_format(root, names)
        formatted = {
            name: (root / f"{index}.py").read_text(encoding="utf-8")
            for index, name in enumerate(names)
        }
    for name, text in formatted.items():
        if _black_differs_on(text):
            formatted[name] = _black_format(text)
    return {**files, **formatted}


def format_python(source: str) -> str:
    """One module's source, formatted as :func:`format_files` does."""
    return format_files({"module.py": source})["module.py"]


# An annotation split before a default of ``[]`` or a negative number: black puts that default
# in parentheses instead, when that makes the first line fit.
_SPLIT_BEFORE_DEFAULT = re.compile(r"^ *\] = (\[\]|-[0-9.eE+-]+)$", re.MULTILINE)


def _black_differs_on(text: str) -> bool:
    """Whether ruff's layout of ``text`` may differ from black's: ruff measures some non-ASCII
    characters narrower than black, and splits a subscript before ``= []`` or ``= -1`` where
    black parenthesises the default."""
    if _SPLIT_BEFORE_DEFAULT.search(text):
        return True
    if text.isascii():
        return False
    in_string = False  # inside a triple-quoted string (docstrings): never re-laid out
    for line in text.split("\n"):
        if not (in_string or line.isascii() or line.lstrip().startswith('"""')):
            return True
        if line.count('"""') % 2:
            in_string = not in_string
    return False


def _black_format(source: str) -> str:
    # black is imported here, not at the top: most trees never need it.
    import black
    from black.mode import TargetVersion
    from black.parsing import InvalidInput

    mode = black.Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)
    try:
        return black.format_str(source, mode=mode)
    except InvalidInput as problem:
        raise GenerationError(f"generated code does not parse: {problem}") from None


def _ruff_format(folder: Path, names: list[str]) -> None:
    # ruff is imported here, not at the top: checking an up-to-date tree does not need it.
    from ruff.__main__ import find_ruff_bin

    command = [
        find_ruff_bin(),
        "format",
        "--isolated",  # no configuration file of the user's or ours changes the output
        "--no-cache",
        f"--line-length={LINE_LENGTH}",
        f"--target-version={TARGET_VERSION}",
        "--quiet",
        str(folder),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as problem:
        raise GenerationError(f"cannot run ruff's formatter: {problem}") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[0] if lines else "ruff format failed"
        # Name the generated file, not the numbered copy that ruff saw.
        for index, name in enumerate(names):
            detail = detail.replace(str(folder / f"{index}.py"), name)
        raise GenerationError(f"generated code does not parse: {detail}")


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (caches excluded), keyed by posix relative path."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not is_cache(path.relative_to(root))
    }


def is_cache(relative: Path) -> bool:
    """Whether a path is inside a tool's cache folder (never an input or output of falgen)."""
    return any(part in _CACHES for part in relative.parts)


_CACHES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


@dataclass(frozen=True)
class TreeChanges:
    """What writing a tree changed in the folder."""

    added: list[str]
    changed: list[str]
    removed: list[str]

    def report(self, root: Path, *, limit: int = 20) -> str:
        """``generated: 1 added, 2 changed, 0 removed``, then the files, ``limit`` per kind."""
        counts = (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"
        )
        if not (self.added or self.changed or self.removed):
            return f"{root}: no file changed"
        lines = [f"{root}: {counts}"]
        for mark, names in (("+", self.added), ("~", self.changed), ("-", self.removed)):
            lines += [f"  {mark} {name}" for name in names[:limit]]
            if len(names) > limit:
                lines.append(f"  {mark} ... and {len(names) - limit} more")
        return "\n".join(lines)


def write_tree(root: Path, files: Mapping[str, str]) -> TreeChanges:
    """Replace ``root`` with exactly ``files``: built aside, then swapped in."""
    _check_owned(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.falgen-", dir=root.parent))
    # mkdtemp makes the folder private (0700); the output is an ordinary folder of the user's.
    staging.chmod(0o777 & ~_umask())
    backup = staging.with_name(staging.name + "-old")
    old = set(_files_under(root))
    added: list[str] = []
    changed: list[str] = []
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if not _write_or_link(path, text.encode("utf-8"), root / name):
                (changed if name in old else added).append(name)
        if root.exists():
            root.rename(backup)
        staging.rename(root)
    except BaseException:
        if backup.exists() and not root.exists():
            backup.rename(root)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)
    removed = sorted(old - set(files))
    return TreeChanges(sorted(added), sorted(changed), removed)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


def _files_under(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return [
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not is_cache(path.relative_to(root))
    ]


def _write_or_link(path: Path, data: bytes, current: Path) -> bool:
    """Write ``data`` to ``path``, or hard-link the current file when it holds the same bytes
    (ten times faster than writing; most files are unchanged on a regeneration). A current file
    that is linked from elsewhere too is not linked again: it would tie the new tree to it.
    Whether the current file held these bytes."""
    same = False
    try:
        found = current.lstat()
        same = (
            stat.S_ISREG(found.st_mode)
            and found.st_size == len(data)
            and current.read_bytes() == data
        )
        if same and found.st_nlink == 1:
            os.link(current, path)
            return True
    except OSError:  # no such file, or no hard links on this file system: write it
        pass
    path.write_bytes(data)
    return same


def _check_owned(root: Path) -> None:
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise GenerationError(f"{root} is not a folder")
    if root.is_dir() and any(root.iterdir()) and not (root / MANIFEST).is_file():
        raise GenerationError(
            f"refusing to replace {root}: it is not empty and has no {MANIFEST}, "
            "so it was not generated by falgen"
        )


@dataclass(frozen=True)
class TreeDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    details: list[str]

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self, *, limit: int = 40) -> str:
        lines = []
        for label, names in (
            ("missing", self.added),
            ("extra", self.removed),
            ("stale", self.changed),
        ):
            lines += [f"  {label}: {name}" for name in names]
        text = "\n".join(lines)
        diff = "\n".join(self.details)
        diff_lines = diff.splitlines()
        if len(diff_lines) > limit:
            diff = "\n".join([*diff_lines[:limit], f"... {len(diff_lines) - limit} more lines"])
        return f"{text}\n{diff}".rstrip()


def compare_tree(root: Path, files: Mapping[str, str]) -> TreeDiff:
    """What differs between the folder on disk and the tree that would be generated."""
    current = read_tree(root)
    expected = {name: text.encode("utf-8") for name, text in files.items()}
    added = sorted(set(expected) - set(current))
    removed = sorted(set(current) - set(expected))
    changed = sorted(n for n in set(expected) & set(current) if expected[n] != current[n])
    details: list[str] = []
    for name in changed:
        details += _unified(name, current[name], expected[name])
    return TreeDiff(added, removed, changed, details)


def _unified(name: str, old: bytes, new: bytes) -> Iterable[str]:
    return difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(),
        new.decode("utf-8", "replace").splitlines(),
        f"{name} (on disk)",
        f"{name} (generated)",
        lineterm="",
        n=1,
    )
