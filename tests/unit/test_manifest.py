"""generator.manifest and generator.cache: the manifest of an output folder is a record, never a
proof. What it claims about files and specs counts only when this machine's generator wrote it;
a forged one costs a full generation, never a wrong tree."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from generator import builder, pipeline
from generator.cache import Cache
from generator.cli import EXIT_SKIPPED, main
from generator.manifest import Previous, generation_salt, is_up_to_date
from generator.output import MANIFEST, read_tree, stamps
from tests.helpers import make_spec, write_spec

MODULE = "fal_models/endpoints/one.py"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("FALGEN_CACHE_DIR", str(tmp_path / "cache"))
    specs, out = tmp_path / "specs", tmp_path / "out"
    write_spec(specs, make_spec("fal-ai/one", {"prompt": {"type": "string"}}))
    write_spec(specs, make_spec("fal-ai/two", {"seed": {"type": "integer"}}))
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    return specs, out


def forge(out: Path, path: str, text: str) -> None:
    """Change a generated file and write its digest into the manifest, as an attacker would."""
    (out / path).write_text(text, encoding="utf-8")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][path]["digest"] = hashlib.sha256(text.encode()).hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def test_a_forged_manifest_does_not_hide_an_injected_file(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    clean = (out / MODULE).read_text(encoding="utf-8")
    forge(out, MODULE, clean + "\nimport os\nos.system('echo pwned')\n")
    capsys.readouterr()

    assert main(["generate", "--check", "--specs", str(specs), "--out", str(out)]) == 1
    assert f"stale: {MODULE}" in capsys.readouterr().err
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert (out / MODULE).read_text(encoding="utf-8") == clean


def test_only_a_manifest_this_generator_wrote_is_trusted(project: tuple[Path, Path]) -> None:
    specs, out = project
    assert is_up_to_date(specs, Previous.read(out))
    manifest = (out / MANIFEST).read_bytes()
    (out / MANIFEST).write_bytes(manifest.replace(b'"salt"', b' "salt"'))  # same content
    assert not is_up_to_date(specs, Previous.read(out))
    # A clean --check proves that the tree on disk is the generated one: trusted from then on.
    assert main(["generate", "--check", "--specs", str(specs), "--out", str(out)]) == 1
    (out / MANIFEST).write_bytes(manifest)
    assert main(["generate", "--check", "--specs", str(specs), "--out", str(out)]) == 0
    assert Cache(generation_salt()).trusts(manifest)


def test_a_spec_is_validated_whatever_the_manifest_says(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The manifest records the digest of a broken spec as if it had been validated."""
    specs, out = project
    broken = json.dumps({"openapi": "3.0.4"}).encode()
    (specs / "fal-ai" / "one.json").write_bytes(broken)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["specs"]["fal-ai/one.json"] = hashlib.sha256(broken).hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    capsys.readouterr()

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == EXIT_SKIPPED
    assert "fal-ai/one.json: #: 'info' is a required property" in capsys.readouterr().err
    assert not (out / MODULE).exists()


def test_an_unchanged_spec_is_not_prepared_again(
    project: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    specs, out = project
    prepared: list[str] = []
    real = builder.prepare

    def counting(spec: object) -> object:
        prepared.append(spec.endpoint_id)  # type: ignore[attr-defined]
        return real(spec)  # type: ignore[arg-type]

    monkeypatch.setattr(builder, "prepare", counting)
    write_spec(specs, make_spec("fal-ai/two", {"seed": {"type": "integer", "minimum": 1}}))
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert prepared == ["fal-ai/two"]
    # The cache is this machine's: without it, everything is prepared (and validated) again.
    capsys.readouterr()
    assert main(["generate", "--full", "--specs", str(specs), "--out", str(out)]) == 0
    assert "up to date" not in capsys.readouterr().out  # --full generates every file again
    assert prepared == ["fal-ai/two"]  # from the cached IR
    cached = read_tree(out)
    monkeypatch.setenv("FALGEN_CACHE_DIR", str(specs.parent / "other-cache"))
    assert main(["generate", "--full", "--specs", str(specs), "--out", str(out)]) == 0
    assert sorted(prepared) == ["fal-ai/one", "fal-ai/two", "fal-ai/two"]
    assert read_tree(out) == cached  # the cache changes nothing in the output


def test_generation_respects_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    write_spec(tmp_path / "specs", make_spec("fal-ai/one", {"prompt": {"type": "string"}}))
    old = os.umask(0o022)
    try:
        assert (
            main(["generate", "--specs", str(tmp_path / "specs"), "--out", str(tmp_path / "o")])
            == 0
        )
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o755


def test_ctrl_c_exits_quietly_and_leaves_the_output_intact(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "model_modules", interrupted)
    write_spec(specs, make_spec("fal-ai/two", {"seed": {"type": "integer", "minimum": 2}}))
    capsys.readouterr()

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 130

    assert capsys.readouterr().err == "falgen: interrupted\n"
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_the_summary_says_what_changed(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    write_spec(specs, make_spec("fal-ai/three", {"prompt": {"type": "string"}}))
    (specs / "fal-ai" / "one.json").unlink()
    capsys.readouterr()

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{out}: 3 added, 9 changed, 3 removed"  # module, command, page
    assert f"  + {MODULE.replace('one', 'three')}" in lines
    assert f"  - {MODULE}" in lines


def test_tool_caches_among_the_templates_do_not_change_the_salt() -> None:
    """A type checker run over templates/runtime leaves .mypy_cache there: not an input."""
    from generator import TEMPLATES_DIR

    before = generation_salt()
    stray = TEMPLATES_DIR / "runtime" / ".mypy_cache" / "falgen-test-stray.json"
    stray.parent.mkdir(exist_ok=True)
    try:
        stray.write_text("{}")
        assert generation_salt() == before
    finally:
        stray.unlink()
        if not any(stray.parent.iterdir()):
            stray.parent.rmdir()


def test_a_file_rewritten_with_its_size_and_time_is_still_caught(
    project: tuple[Path, Path],
) -> None:
    """Files whose stamp (see generator.output.stamp) is the recorded one are not read again:
    a change that keeps the size and puts the modification time back is still a change."""
    specs, out = project
    path = out / MODULE
    before = path.stat()
    clean = path.read_bytes()
    path.write_bytes(clean.replace(b"class", b"klass", 1))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert not is_up_to_date(specs, Previous.read(out))
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert path.read_bytes() == clean


def test_a_stamped_file_is_not_read_again(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = project
    previous = Previous.read(out)
    assert previous is not None
    time.sleep(0.1)  # past the file system clock's tick of the last change
    stamped = stamps(out, [MODULE])
    assert previous.intact(MODULE, stamped)

    def unread(data: bytes) -> str:
        raise AssertionError("a file with its recorded stamp is not read")

    monkeypatch.setattr("generator.manifest.sha256", unread)
    assert previous.intact(MODULE, stamped)
    (out / MODULE).write_bytes((out / MODULE).read_bytes())  # the same bytes, written again
    with pytest.raises(AssertionError, match="not read"):
        previous.intact(MODULE, stamped)
