"""fal's own published OpenAPI documents (``../shared/realspecs``, read in place and never copied
into this repository), generated together with ``specs/``: every endpoint module imports, each
Input model accepts the document's example input, and the package passes ``mypy --strict``.

Skipped when the folder is not there.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.ir import Package
from generator.output import write_tree
from generator.pipeline import generate_tree, load_package
from generator.settings import Options
from tests.helpers import REALSPECS, SPECS, importable

IMPORT_NAME = "real_models"
OPTIONS = Options(distribution="real-models", import_name=IMPORT_NAME)


@dataclass(frozen=True)
class RealDocument:
    path: Path
    document: dict[str, Any]

    @property
    def endpoint_id(self) -> str:
        endpoint_id: str = self.document["info"]["x-fal-metadata"]["endpointId"]
        return endpoint_id

    @property
    def example_input(self) -> dict[str, Any]:
        """The first example of every input property that has one, by JSON name."""
        body = self.document["paths"][f"/{self.endpoint_id}"]["post"]["requestBody"]
        name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        properties = self.document["components"]["schemas"][name]["properties"]
        return {
            prop: schema["examples"][0]
            for prop, schema in properties.items()
            if schema.get("examples")
        }


@dataclass(frozen=True)
class Generated:
    documents: list[RealDocument]
    package: Package
    root: Path  # the generated folder


def real_documents() -> list[RealDocument]:
    if not REALSPECS.is_dir():
        pytest.skip(f"no real fal documents: {REALSPECS} does not exist")
    documents = [
        RealDocument(path, json.loads(path.read_bytes()))
        for path in sorted(REALSPECS.glob("*.json"))
    ]
    if not documents:
        pytest.skip(f"no real fal documents: {REALSPECS} holds no *.json file")
    return documents


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    documents = real_documents()
    root = tmp_path_factory.mktemp("realspecs")
    specs = root / "specs"
    shutil.copytree(SPECS, specs)
    for real in documents:  # laid out by the endpoint id they declare, bytes unchanged
        target = specs / f"{real.endpoint_id}.json"
        assert not target.exists(), f"{real.path.name}: specs/ already has {real.endpoint_id}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real.path, target)
    package = load_package(specs, OPTIONS)
    write_tree(root / "out", generate_tree(specs, OPTIONS))
    with importable(root / "out", IMPORT_NAME):
        yield Generated(documents, package, root / "out")


def test_every_real_document_becomes_an_endpoint(generated: Generated) -> None:
    ids = {endpoint.endpoint_id for endpoint in generated.package.endpoints}
    assert {real.endpoint_id for real in generated.documents} <= ids
    assert len(ids) == len(generated.documents) + len(list(SPECS.rglob("*.json")))


def test_every_endpoint_imports_and_takes_its_example_input(generated: Generated) -> None:
    endpoints = {endpoint.endpoint_id: endpoint for endpoint in generated.package.endpoints}
    client = importlib.import_module(f"{IMPORT_NAME}._client").FalClient(key="k")
    for endpoint in endpoints.values():
        module = importlib.import_module(f"{IMPORT_NAME}.endpoints.{endpoint.module}")
        importlib.import_module(f"{IMPORT_NAME}.cli.commands.{endpoint.module}")
        assert getattr(client, endpoint.attribute).endpoint_id == endpoint.endpoint_id
        assert getattr(module, endpoint.class_name).endpoint_id == endpoint.endpoint_id
    for real in generated.documents:
        endpoint = endpoints[real.endpoint_id]
        module = importlib.import_module(f"{IMPORT_NAME}.endpoints.{endpoint.module}")
        example = real.example_input
        model = getattr(module, endpoint.input.class_name).model_validate(example)
        sent = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert sent == example, real.path.name


def test_the_package_passes_mypy_strict(generated: Generated, tmp_path: Path) -> None:
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy"),
            IMPORT_NAME,
        ],
        cwd=generated.root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
