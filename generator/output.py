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
from collections.abc import Iterable, Iterator, Mapping
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
    return {name: (root / name).read_bytes() for name in list_tree(root)}


def list_tree(root: Path) -> list[str]:
    """The posix relative paths of the files under ``root`` (caches excluded), sorted; as
    ``rglob``, folders that are links are not entered."""
    found: list[str] = []
    pending = [(os.fspath(root), "")]
    while pending:
        folder, inside = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name in _CACHES:
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, f"{inside}{entry.name}/"))
            elif entry.is_file():
                found.append(inside + entry.name)
    return sorted(found)


def is_cache(relative: Path) -> bool:
    """Whether a path is inside a tool's cache folder (never an input or output of falgen)."""
    return any(part in _CACHES for part in relative.parts)


_CACHES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


class Tree(Mapping[str, str]):
    """The files of a generated tree by relative path: texts made now, and files kept as they
    are in the folder of an earlier generation (verified there, read only when asked for:
    writing the tree over that folder links them instead)."""

    def __init__(self, files: Mapping[str, str | None], folder: Path | None = None) -> None:
        """``files``: each file's text, or None for one kept from ``folder``."""
        self._files = dict(files)
        self.folder = folder
        self.kept = frozenset(name for name, text in self._files.items() if text is None)
        if self.kept and folder is None:
            raise ValueError("kept files need the folder they are kept in")

    def __getitem__(self, name: str) -> str:
        text = self._files[name]
        if text is None:
            assert self.folder is not None
            return (self.folder / name).read_bytes().decode("utf-8")
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def kept_in(self, root: Path) -> frozenset[str]:
        """The files kept as they are in ``root``."""
        return self.kept if self.folder == root else frozenset()


# A regular file's device, inode, size, modification and change times (ns).
Stamp = tuple[int, int, int, int, int]


def stamp(path: str | Path) -> Stamp | None:
    """What the file system says of a regular file (None for anything else). Writing the file
    changes its stamp: its change time (ctime) is set by the file system's clock, and no call
    sets it back. (Like git's index, falgen's cache keeps the stamps of the files it wrote.)"""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def stamps(root: Path, names: Iterable[str]) -> dict[str, Stamp]:
    """The stamps of files under ``root``, but of those changed in the file system clock's
    current tick: a later change in the same tick would leave their stamp as it is."""
    try:
        now = _file_system_time(root)
    except OSError:  # no place to ask the clock: nothing is stamped (files are read instead)
        return {}
    found = {}
    folder = os.fspath(root)
    for name in names:
        current = stamp(os.path.join(folder, name))
        if current is not None and current[4] < now:
            found[name] = current
    return found


def _file_system_time(root: Path) -> int:
    """The time of the clock that stamps ``root``'s files (of a file made beside it)."""
    fd, path = tempfile.mkstemp(dir=root.parent, prefix=f".{root.name}.falgen-clock-")
    try:
        return os.fstat(fd).st_ctime_ns
    finally:
        os.close(fd)
        os.unlink(path)


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
    old = set(list_tree(root)) if root.is_dir() else set()
    kept = files.kept_in(root) if isinstance(files, Tree) else frozenset()
    added: list[str] = []
    changed: list[str] = []
    folders: set[str] = set()
    into, current = os.fspath(staging), os.fspath(root)  # strings: thousands of paths
    try:
        for name in files:
            path = os.path.join(into, name)
            if (folder := os.path.dirname(path)) not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if name in kept:
                _keep(path, os.path.join(current, name))
            elif not _write_or_link(path, files[name].encode("utf-8"), os.path.join(current, name)):
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


def _write_or_link(path: str, data: bytes, current: str) -> bool:
    """Write ``data`` to ``path``, or hard-link the current file when it holds the same bytes
    (ten times faster than writing; most files are unchanged on a regeneration). A current file
    that is linked from elsewhere too is not linked again: it would tie the new tree to it.
    Whether the current file held these bytes."""
    same = False
    try:
        found = os.lstat(current)
        if stat.S_ISREG(found.st_mode) and found.st_size == len(data):
            with open(current, "rb") as stream:
                same = stream.read() == data
        if same and found.st_nlink == 1:
            os.link(current, path)
            return True
    except OSError:  # no such file, or no hard links on this file system: write it
        pass
    with open(path, "wb") as stream:
        stream.write(data)
    return same


def _keep(path: str, current: str) -> None:
    """Put the current file, known to hold the right bytes, at ``path`` (linked, as
    :func:`_write_or_link` does, unless it is linked from elsewhere too)."""
    try:
        found = os.lstat(current)
        if stat.S_ISREG(found.st_mode) and found.st_nlink == 1:
            os.link(current, path)
            return
    except OSError:
        pass
    with open(current, "rb") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)


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
    current = set(list_tree(root)) if root.is_dir() else set()
    kept = files.kept_in(root) if isinstance(files, Tree) else frozenset()
    added = sorted(set(files) - current)
    removed = sorted(current - set(files))
    changed = []
    details: list[str] = []
    for name in sorted(current & set(files) - kept):
        old, new = (root / name).read_bytes(), files[name].encode("utf-8")
        if old != new:
            changed.append(name)
            details += _unified(name, old, new)
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
