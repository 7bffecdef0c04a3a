"""The server's dependencies are an extra: generating needs none of them, and ``falgen serve``
without them says how to install them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator.server import DEPENDENCIES
from tests.server.support import ROOT

# Runs falgen with the server's dependencies made unimportable, as in a venv without the extra,
# then reports which of them were imported anyway.
WITHOUT_SERVER_EXTRA = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))

class WithoutServerExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, WithoutServerExtra())
from generator.cli import main
try:
    code = main(sys.argv[2:])
finally:
    print("imported:", sorted({m.partition(".")[0] for m in sys.modules} & blocked))
raise SystemExit(code)
"""


def falgen_without_server_extra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SERVER_EXTRA, ",".join(DEPENDENCIES), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_generate_needs_none_of_the_server_dependencies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = falgen_without_server_extra("generate", "--specs", "specs", "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stdout
    assert (out / "fal_models" / "__init__.py").is_file()


def test_serve_without_the_extra_says_how_to_install_it() -> None:
    done = falgen_without_server_extra("serve", "--specs", "specs", "--port", "0")

    assert done.returncode == 2
    assert "pip install 'falgen[server]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert "imported: []" in done.stdout
