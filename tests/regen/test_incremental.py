"""Incremental generation: after any sequence of edits, ``falgen generate`` on the previous output
gives byte for byte the tree a full generation gives, and it really skips unchanged work."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import TEMPLATES_DIR, pipeline, render
from generator.cli import main
from generator.commands import Command
from generator.docs import EndpointPage, PageEntry
from generator.ir import Package
from generator.output import MANIFEST, compare_tree, read_tree
from generator.pipeline import generate_tree
from tests.helpers import make_spec, write_spec

SHARED = {
    "ImageSize": {
        "type": "object",
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
    },
    "Image": {
        "type": "object",
        "properties": {"url": {"type": "string"}, "content_type": {"type": "string"}},
        "required": ["url"],
    },
}


def endpoint(number: int) -> dict[str, Any]:
    return make_spec(
        f"fal-ai/model-{number}",
        {
            "prompt": {"type": "string", "description": f"Prompt of model {number}."},
            "image_size": {"$ref": "#/components/schemas/ImageSize"},
            "steps": {"type": "integer", "minimum": 1, "default": 4},
        },
        {"images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}}},
        required=["prompt"],
        schemas=SHARED,
    )


def spec_files(specs: Path) -> list[Path]:
    return sorted(specs.rglob("*.json"))


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def save(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def input_schema(document: dict[str, Any]) -> dict[str, Any]:
    name = next(n for n in document["components"]["schemas"] if n.endswith("Input"))
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


# Each edit changes the specs folder (or damages the output) the way real maintenance does.
Edit = Callable[[random.Random, Path, Path], None]


def edit_description(rng: random.Random, specs: Path, out: Path) -> None:
    path = rng.choice(spec_files(specs))
    document = load(path)
    input_schema(document)["properties"]["prompt"]["description"] = f"Edited {rng.random()}."
    save(path, document)


def add_optional_field(rng: random.Random, specs: Path, out: Path) -> None:
    path = rng.choice(spec_files(specs))
    document = load(path)
    name = f"extra_{rng.randrange(1000)}"
    input_schema(document)["properties"][name] = {"type": "boolean", "default": True}
    input_schema(document)["x-fal-order-properties"].append(name)
    save(path, document)


def remove_field(rng: random.Random, specs: Path, out: Path) -> None:
    path = rng.choice(spec_files(specs))
    document = load(path)
    schema = input_schema(document)
    schema["properties"].pop("steps", None)
    schema["x-fal-order-properties"] = [p for p in schema["x-fal-order-properties"] if p != "steps"]
    save(path, document)


def fork_shared_type(rng: random.Random, specs: Path, out: Path) -> None:
    """One endpoint's ImageSize differs from the others': which models are shared changes."""
    path = rng.choice(spec_files(specs))
    document = load(path)
    size = document["components"]["schemas"]["ImageSize"]
    size["properties"][f"depth_{rng.randrange(100)}"] = {"type": "integer"}
    save(path, document)


def add_endpoint(rng: random.Random, specs: Path, out: Path) -> None:
    write_spec(specs, endpoint(rng.randrange(10, 10_000)))


def remove_endpoint(rng: random.Random, specs: Path, out: Path) -> None:
    files = spec_files(specs)
    if len(files) > 2:
        rng.choice(files).unlink()


def bump_version(rng: random.Random, specs: Path, out: Path) -> None:
    (specs / "falgen.toml").write_text(
        f'[package]\nversion = "0.{rng.randrange(1, 99)}.0"\n', encoding="utf-8"
    )


def add_capability_and_summary(rng: random.Random, specs: Path, out: Path) -> None:
    path = rng.choice(spec_files(specs))
    document = load(path)
    document["info"]["x-falgen-capabilities"] = ["streaming"]
    document["info"]["x-falgen-summary"] = f"Summary {rng.random()}."
    save(path, document)


def damage_output(rng: random.Random, specs: Path, out: Path) -> None:
    """A hand edit and a deleted file in the output: both must be repaired."""
    files = sorted(p for p in out.rglob("*.py") if p.is_file())
    edited, deleted = rng.sample(files, 2)
    edited.write_text(edited.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")
    deleted.unlink()


EDITS: tuple[Edit, ...] = (
    edit_description,
    add_optional_field,
    remove_field,
    fork_shared_type,
    add_endpoint,
    remove_endpoint,
    bump_version,
    add_capability_and_summary,
    damage_output,
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    specs, out = tmp_path / "specs", tmp_path / "out"
    for number in range(3):
        write_spec(specs, endpoint(number))
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    yield specs, out
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_equals_full_after_random_edit_sequences(
    project: tuple[Path, Path], seed: int
) -> None:
    specs, out = project
    rng = random.Random(seed)
    sequence = rng.sample(EDITS, len(EDITS))  # every kind of edit, in a random order
    for edit in sequence:
        edit(rng, specs, out)
        assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0, edit.__name__
        diff = compare_tree(out, generate_tree(specs))
        assert diff.clean, f"after {edit.__name__}:\n{diff.summary()}"


def test_a_changed_spec_renders_and_formats_only_what_depends_on_it(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = project
    formatted: list[str] = []
    real = pipeline.format_files

    def recording(files: dict[str, str], **kwargs: Any) -> dict[str, str]:
        formatted.extend(files)
        return real(files, **kwargs)

    monkeypatch.setattr(pipeline, "format_files", recording)
    path = specs / "fal-ai" / "model-1.json"
    document = load(path)
    input_schema(document)["properties"]["prompt"]["description"] = "A new description."
    save(path, document)

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0

    # The endpoint's module, command and page change; nothing else needs rendering again.
    assert sorted(formatted) == [
        "docs/endpoints/model_1.md",
        "fal_models/cli/commands/model_1.py",
        "fal_models/endpoints/model_1.py",
    ]
    assert compare_tree(out, generate_tree(specs)).clean


def test_an_unchanged_endpoint_is_neither_rebuilt_nor_read(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its files are kept: its docs page and command options are not made, and its models
    are not even unpickled from the local cache (see ir.PicklesLazily)."""
    specs, out = project
    pages: list[str] = []
    commands: list[Command] = []
    generations: list[pipeline.Generation] = []
    page, planned, generate = render.endpoint_page, render.build_commands, pipeline.generate

    def recording_page(package: Package, entry: PageEntry) -> EndpointPage:
        pages.append(entry.endpoint.endpoint_id)
        return page(package, entry)

    def recording_commands(package: Package) -> tuple[Command, ...]:
        built = planned(package)
        commands.extend(built)
        return built

    def recording_generate(*args: Any, **kwargs: Any) -> pipeline.Generation:
        generations.append(generate(*args, **kwargs))
        return generations[-1]

    monkeypatch.setattr(render, "endpoint_page", recording_page)
    monkeypatch.setattr(render, "build_commands", recording_commands)
    monkeypatch.setattr(pipeline, "generate", recording_generate)
    edit_description(random.Random(0), specs, out)  # one of the three specs
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0

    (changed,) = pages
    (generation,) = generations
    unchanged = [e for e in generation.package.endpoints if e.endpoint_id != changed]
    assert len(unchanged) == 2
    assert all("models" not in vars(endpoint) for endpoint in unchanged)
    # The command of the changed endpoint has its options made (cached), no other.
    assert [c.endpoint.endpoint_id for c in commands if "options" in vars(c)] == [changed]
    assert compare_tree(out, generate_tree(specs)).clean


def test_nothing_to_do_writes_nothing_and_loads_nothing(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*")}

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("an up-to-date tree must not be generated again")

    monkeypatch.setattr(pipeline, "generate_tree", fail)
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert main(["generate", "--specs", str(specs), "--out", str(out), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")} == before


def test_a_stale_manifest_entry_is_not_trusted(project: tuple[Path, Path]) -> None:
    """A file changed on disk is generated again even though its inputs did not change."""
    specs, out = project
    target = out / "fal_models" / "endpoints" / "model_0.py"
    target.write_text("broken = True\n", encoding="utf-8")
    assert main(["generate", "--specs", str(specs), "--out", str(out), "--check"]) == 1
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert compare_tree(out, generate_tree(specs)).clean


def test_a_different_generator_invalidates_everything(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = project
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == {"files", "generator", "names", "options", "problems", "salt", "specs"}
    # Same bytes everywhere, but recorded by another generator: nothing may be kept.
    manifest["salt"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    formatted: list[str] = []
    real = pipeline.format_files
    monkeypatch.setattr(
        pipeline, "format_files", lambda files, **kw: formatted.extend(files) or real(files, **kw)
    )
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    # Every Python file again, but the runtime's, which are copied as black wrote them.
    copied = {f"fal_models/_runtime/{p.name}" for p in (TEMPLATES_DIR / "runtime").glob("*.py")}
    copied |= {f"fal_models/cli/{p.name}" for p in (TEMPLATES_DIR / "cli").glob("*.py")}
    python = {name for name in read_tree(out) if name.endswith(".py")}
    assert {name for name in formatted if name.endswith(".py")} == python - copied


def test_removing_a_spec_removes_its_module_command_and_page(project: tuple[Path, Path]) -> None:
    specs, out = project
    (specs / "fal-ai" / "model-2.json").unlink()
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    names = set(read_tree(out))
    assert (
        not {
            "fal_models/endpoints/model_2.py",
            "fal_models/cli/commands/model_2.py",
            "docs/endpoints/model_2.md",
        }
        & names
    )
    assert "model_2" not in (out / "fal_models" / "_client.py").read_text(encoding="utf-8")
