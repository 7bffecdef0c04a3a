"""The committed generated/ must be exactly what the specs produce, and --check must say so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from generator.output import MANIFEST, compare_tree, write_tree
from tests.helpers import GENERATED, ROOT, SPECS


def test_generated_folder_matches_specs(generated_files: dict[str, str]) -> None:
    diff = compare_tree(GENERATED, generated_files)
    assert diff.clean, (
        "generated/ is stale; run 'falgen generate' and commit the result:\n" + diff.summary()
    )


def test_generation_is_independent_of_hash_seed_and_process(
    generated_files: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "generator.cli",
            "generate",
            "--specs",
            str(SPECS),
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    assert compare_tree(out, generated_files).clean


@pytest.fixture()
def copy_of_generated(tmp_path: Path) -> Path:
    target = tmp_path / "generated"
    shutil.copytree(GENERATED, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_check_passes_on_fresh_output(
    copy_of_generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["generate", "--specs", str(SPECS), "--out", str(copy_of_generated), "--check"]) == 0
    )
    assert "up to date" in capsys.readouterr().out


def test_check_reports_changed_missing_and_extra_files(
    copy_of_generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = copy_of_generated / "fal_models" / "_client.py"
    client.write_text(client.read_text() + "# hand edit\n")
    (copy_of_generated / "fal_models" / "endpoints" / "omnigen_v2.py").unlink()
    (copy_of_generated / "stray.txt").write_text("x")
    before = client.read_text()

    code = main(["generate", "--specs", str(SPECS), "--out", str(copy_of_generated), "--check"])

    assert code == 1
    err = capsys.readouterr().err
    assert "stale: fal_models/_client.py" in err
    assert "missing: fal_models/endpoints/omnigen_v2.py" in err
    assert "extra: stray.txt" in err
    assert "-# hand edit" in err  # a readable diff of the stale file
    assert client.read_text() == before, "--check must not write"


def test_generate_repairs_a_stale_folder(copy_of_generated: Path) -> None:
    (copy_of_generated / "stray.txt").write_text("x")
    assert main(["generate", "--specs", str(SPECS), "--out", str(copy_of_generated)]) == 0
    assert not (copy_of_generated / "stray.txt").exists()
    assert (
        main(["generate", "--specs", str(SPECS), "--out", str(copy_of_generated), "--check"]) == 0
    )


def test_rewriting_keeps_unchanged_files_by_link_and_never_ties_to_outside_links(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    write_tree(out, {MANIFEST: "{}", "same.txt": "same", "changed.txt": "old", "shared.txt": "x"})
    before = {name: (out / name).stat().st_ino for name in ("same.txt", "changed.txt")}
    outside = tmp_path / "elsewhere.txt"
    os.link(out / "shared.txt", outside)  # the user linked a generated file from elsewhere

    write_tree(out, {MANIFEST: "{}", "same.txt": "same", "changed.txt": "new", "shared.txt": "x"})

    assert {p.name: p.read_text() for p in out.iterdir()} == {
        MANIFEST: "{}",
        "same.txt": "same",
        "changed.txt": "new",
        "shared.txt": "x",
    }
    assert (out / "same.txt").stat().st_ino == before["same.txt"]  # linked, not rewritten
    assert (out / "same.txt").stat().st_nlink == 1  # the old tree is gone
    assert (out / "changed.txt").stat().st_ino != before["changed.txt"]
    assert not os.path.samefile(out / "shared.txt", outside)
    outside.write_text("edited elsewhere")
    assert (out / "shared.txt").read_text() == "x"


def test_refuses_to_replace_a_folder_it_did_not_generate(tmp_path: Path) -> None:
    precious = tmp_path / "project"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert main(["generate", "--specs", str(SPECS), "--out", str(precious)]) == 1
    assert (precious / "notes.txt").read_text() == "keep me"
    assert not (precious / MANIFEST).exists()


def test_models_generated_in_worker_processes_are_the_same(
    generated_files: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Specs prepared and models made over worker processes give the same tree."""
    from generator import models, pipeline, workers
    from generator.cache import CACHE_VARIABLE

    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))  # nothing prepared before

    for module in (models, pipeline):
        monkeypatch.setattr(module, "PARALLEL_ENDPOINTS", 1)  # 13 endpoints over the workers
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 3)
    monkeypatch.setattr(models.os, "cpu_count", lambda: 3)
    with workers.Workers() as started:
        assert started.count == 2
        assert pipeline.generate(SPECS, workers=started).files == generated_files


def test_runtime_sources_are_kept_formatted() -> None:
    """They are copied into the package without formatting (see render.plan_package)."""
    from generator import TEMPLATES_DIR
    from generator.output import format_files

    sources = sorted(
        [*(TEMPLATES_DIR / "runtime").glob("*.py"), *(TEMPLATES_DIR / "cli").glob("*.py")]
    )
    assert sources
    texts = {path.as_posix(): path.read_text(encoding="utf-8") for path in sources}
    formatted = format_files(texts)
    for name, text in texts.items():
        assert formatted[name] == text, f"run 'ruff format' on {name}"


def test_generated_tree_is_black_formatted() -> None:
    """ruff's formatter writes the tree; black, at the package's settings, must agree."""
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", str(GENERATED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
