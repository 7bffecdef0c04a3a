"""The command line on real fal documents of every kind of output: LLM text, audio, speech, video,
3D and training files, read in place from ``../shared/catalog`` (skipped when it is absent).

For each category the first document that the generator takes is used, as ``falgen fetch``
would write it. Each command's documented example runs through the local server (inputs with
arrays and nested objects, given as the CLI's flags); then the document's own example output is
served by a scripted server, so that the files are saved as real ones would be: each under a
safe name with the extension of its format.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.commands import Command, argv_for, build_commands
from generator.fetch import catalog_spec
from generator.loader import load_spec_bytes, load_specs
from generator.output import write_tree
from generator.pipeline import Options, generate_tree, load_package
from generator.server import ServerConfig, ServerURLs, running_server
from generator.specfile import spec_path
from tests.helpers import CATALOG, sample
from tests.hostile import Answer, fake_fal

CATEGORIES = ("llm", "text-to-audio", "text-to-speech", "text-to-video", "image-to-3d", "training")
OPTIONS = Options(distribution="catalog-models", import_name="catalog_models")
KEY = "catalog-cli-key-51d0"

pytestmark = pytest.mark.skipif(not CATALOG.is_dir(), reason="../shared/catalog is absent")


@dataclass(frozen=True)
class Generated:
    root: Path
    specs: Path
    commands: dict[str, Command]  # by category

    def run(self, urls: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAL_")}
        env |= {"PYTHONPATH": str(self.root), "COLUMNS": "100", "FAL_KEY": KEY, **urls}
        return subprocess.run(
            [sys.executable, "-m", f"{OPTIONS.import_name}.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )


def first_usable(category: str, specs: Path) -> str | None:
    """The first document of ``category`` that loads and builds, written to ``specs``."""
    for model in json.loads((CATALOG / f"{category}.json").read_text(encoding="utf-8"))["models"]:
        endpoint_id, text = catalog_spec(model)
        raw = text.encode()
        path = spec_path(specs, endpoint_id)
        try:
            load_spec_bytes(path.relative_to(specs).as_posix(), raw)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
            load_package(specs)
        except Exception:  # this document is not (yet) usable: the next one
            path.unlink(missing_ok=True)
            continue
        return endpoint_id
    return None


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("catalog-cli")
    specs = root / "specs"
    chosen = {category: first_usable(category, specs) for category in CATEGORIES}
    package = load_package(specs, OPTIONS)
    write_tree(root / "out", generate_tree(specs, OPTIONS))
    by_id = {command.endpoint.endpoint_id: command for command in build_commands(package)}
    commands = {category: by_id[eid] for category, eid in chosen.items() if eid is not None}
    assert set(commands) == set(CATEGORIES), (
        f"no usable document for {set(CATEGORIES) - set(commands)}"
    )
    return Generated(root / "out", specs, commands)


@pytest.fixture(scope="module")
def server(generated: Generated) -> Iterator[dict[str, str]]:
    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with running_server(load_specs(generated.specs), config) as urls:
        yield server_env(urls)


def server_env(urls: ServerURLs) -> dict[str, str]:
    return {
        "FAL_QUEUE_URL": urls.queue,
        "FAL_RUN_URL": urls.run,
        "FAL_REST_URL": urls.rest,
        "FAL_REALTIME_URL": urls.realtime,
    }


def arguments(command: Command, specs: Path) -> list[str]:
    """Flags for the documented example input, completed with the required fields it leaves
    out (fal's examples are sometimes partial); file inputs get a URL."""
    (spec,) = [s for s in load_specs(specs) if s.endpoint_id == command.endpoint.endpoint_id]
    values = {**sample(spec.schemas[spec.input_schema], spec.schemas)}
    values |= command.endpoint.example_input
    for option in command.options:
        value = values.get(option.name)
        if option.kind == "file" and isinstance(value, str) and "://" not in value:
            values[option.name] = "https://v3.fal.media/files/input.zip"
    return argv_for(command, values)[2:]


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_runs_its_documented_example(
    category: str, generated: Generated, server: dict[str, str]
) -> None:
    command = generated.commands[category]
    done = generated.run(server, command.name, *arguments(command, generated.specs), "--json", "-q")
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert set(output) >= {f.name for f in command.endpoint.output.fields if f.required}


def example_output(
    command: Command, specs: Path, files_url: str
) -> tuple[dict[str, Any], dict[str, Answer]]:
    """The document's own example output (its properties' examples, the rest sampled), with
    every file URL moved to ``files_url`` (served with the bytes of an empty file)."""
    (spec,) = [s for s in load_specs(specs) if s.endpoint_id == command.endpoint.endpoint_id]
    schema = spec.schemas[spec.output_schema]
    output = sample(schema, spec.schemas)
    for name, node in schema.get("properties", {}).items():
        if node.get("examples"):
            output[name] = node["examples"][0]
    files: dict[str, Answer] = {}

    def moved(value: Any) -> Any:
        if isinstance(value, dict):
            value = {key: moved(item) for key, item in value.items()}
            if isinstance(value.get("url"), str):
                path = f"/files/{len(files)}-{value['url'].rstrip('/').rpartition('/')[2]}"
                files[path] = Answer(body=b"content")
                value["url"] = files_url + path
            return value
        if isinstance(value, list):
            return [moved(item) for item in value]
        return value

    return moved(output), files


EXPECTED = {  # the formats each category's example output names
    "text-to-audio": {".mp3"},
    "text-to-speech": {".mp3"},
    "text-to-video": {".mp4"},
    "image-to-3d": {".glb", ".obj", ".png"},
}


@pytest.mark.parametrize("category", sorted(EXPECTED))
def test_saved_files_have_the_extension_of_their_format(
    category: str, generated: Generated, tmp_path: Path
) -> None:
    command = generated.commands[category]
    result: dict[str, Any] = {}
    files: dict[str, Answer] = {}
    with fake_fal(request_id="r1", result=Answer(body=result), files=files) as fake:
        output, served = example_output(command, generated.specs, fake.url)
        result |= output
        files |= served
        urls = {"FAL_QUEUE_URL": f"{fake.url}/queue", "FAL_RUN_URL": f"{fake.url}/run"}
        done = generated.run(
            urls, command.name, *arguments(command, generated.specs), "--output-dir", str(tmp_path)
        )
    assert done.returncode == 0, done.stderr
    assert {path.suffix for path in tmp_path.iterdir()} == EXPECTED[category]
    assert all(path.name.startswith("r1-") for path in tmp_path.iterdir())


def test_llm_text_is_printed_as_text(generated: Generated) -> None:
    command = generated.commands["llm"]
    result: dict[str, Any] = {}
    with fake_fal(result=Answer(body=result)) as fake:
        output, _ = example_output(command, generated.specs, fake.url)
        output["output"] = "First paragraph.\n\nSecond paragraph, after a blank line."
        result |= output
        urls = {"FAL_QUEUE_URL": f"{fake.url}/queue", "FAL_RUN_URL": f"{fake.url}/run"}
        done = generated.run(urls, command.name, *arguments(command, generated.specs), "-q")
    assert done.returncode == 0, done.stderr
    assert (
        "output:\n  First paragraph.\n  \n  Second paragraph, after a blank line.\n" in done.stdout
    )
    assert "usage: " in done.stdout  # the usage record, on one line of key=value pairs
