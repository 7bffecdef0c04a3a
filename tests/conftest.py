"""Fixtures shared by the whole suite."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import GENERATED, SPECS

# falgen's local cache (generator/cache.py) of this test run: never the user's.
_CACHE = tempfile.mkdtemp(prefix="falgen-test-cache-")
os.environ["FALGEN_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

# The committed generated package is imported straight from generated/ (no install needed).
if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))


@pytest.fixture(scope="session")
def generated_files() -> dict[str, str]:
    """The tree that generating from specs/ produces now (computed once per test run)."""
    from generator.pipeline import generate_tree

    return generate_tree(SPECS)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a certificate for 127.0.0.1/localhost it signed: (ca, cert, key)."""
    pytest.importorskip("trustme")
    from generator.server import throwaway_certificates

    return throwaway_certificates(tmp_path_factory.mktemp("tls"))
