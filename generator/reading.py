"""Reading the files of a specs folder: a link never leads out of it, and no read is unbounded.

A specs folder may come from someone else (a repository, a mirror, an archive). A file in it that
is a symbolic link to a file outside it (``specs/a.json -> ~/.ssh/id_rsa``) would otherwise be
read, and its text shown in error messages, diffs and generated docs. Links inside the folder
are followed; linked folders are not entered (see ``loader.SpecFiles.walk``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class LinkOutside(OSError):
    """A file of the folder is a link to somewhere outside it."""

    def __init__(self) -> None:
        super().__init__(errno.EACCES, "a link to outside the specs folder; not followed")


def read_inside(root: Path, path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (the caller reports a larger file), a file of
    folder ``root``. :class:`LinkOutside` (an ``OSError``) when it is a link that resolves
    outside ``root``."""
    if os.path.islink(path):
        target = os.path.realpath(path)
        folder = os.path.realpath(root)
        if os.path.commonpath([folder, target]) != folder:
            raise LinkOutside()
        path = Path(target)  # what was checked is what is read
    with open(path, "rb") as stream:
        return stream.read(limit + 1)
