"""The committed docs site, built once per run for the tests that read it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GENERATED


def build_site(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of the site whose ``mkdocs.yml`` is in ``source``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(source / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed docs, built in a temporary folder (generated/ stays untouched)."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copy(GENERATED / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(GENERATED / "docs", root / "docs")
    built = build_site(root, root / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stdout + built.stderr, built.stdout + built.stderr
    return root / "site"
