"""Hostile specs through the whole pipeline (``generate_tree``, black included): the package and
every endpoint and command module import, wire names and defaults survive, and the checks of the
pure stages still hold on the formatted files.

Each example is generated incrementally on top of one first generation, so that only the files
that depend on the specs are formatted again; the result is the tree a full generation makes.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from generator.manifest import Previous
from generator.output import write_tree
from generator.pipeline import generate_tree, load_package
from generator.settings import Options
from tests.hardening.checks import check_tree
from tests.hardening.profiles import pipeline_examples
from tests.hardening.strategies import EndpointSpec, spec_folders
from tests.helpers import make_spec, write_spec

IMPORT_NAME = "hardening_models"
OPTIONS = Options(import_name=IMPORT_NAME, distribution="hardening-models")


class Base:
    """A first generation: later ones keep its files that do not depend on the specs."""

    def __init__(self, root: Path) -> None:
        write_spec(root / "specs", make_spec("fal-ai/base", {"prompt": {"type": "string"}}))
        write_tree(root / "out", generate_tree(root / "specs", OPTIONS))
        previous = Previous.read(root / "out")
        assert previous is not None
        self.previous = previous

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return "Base()"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return Base(tmp_path_factory.mktemp("hardening-base"))


def forget_package() -> None:
    for name in [name for name in sys.modules if name.partition(".")[0] == IMPORT_NAME]:
        del sys.modules[name]


@settings(max_examples=pipeline_examples())
@given(specs=spec_folders())
def test_hostile_specs_generate_importable_packages(base: Base, specs: list[EndpointSpec]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for spec in specs:
            write_spec(root / "specs", spec.document)
        package = load_package(root / "specs", OPTIONS)
        files = generate_tree(root / "specs", OPTIONS, previous=base.previous)
        check_tree(package, files)
        write_tree(root / "out", files)
        forget_package()
        sys.path.insert(0, str(root / "out"))
        importlib.invalidate_caches()
        try:
            check_imports(package, {spec.endpoint_id: spec for spec in specs})
        finally:
            sys.path.remove(str(root / "out"))
            forget_package()


def check_imports(package: Any, specs: dict[str, EndpointSpec]) -> None:
    with warnings.catch_warnings():
        # A field named like a BaseModel attribute must be renamed, not shadow it.
        warnings.filterwarnings("error", message=".*shadows an attribute", category=UserWarning)
        client_module = importlib.import_module(f"{IMPORT_NAME}._client")
        client = client_module.FalClient(key="k")
        for endpoint in package.endpoints:
            module = importlib.import_module(f"{IMPORT_NAME}.endpoints.{endpoint.module}")
            resource = getattr(client, endpoint.attribute)
            assert resource.endpoint_id == endpoint.endpoint_id
            spec = specs[endpoint.endpoint_id]
            check_input_model(getattr(module, endpoint.input.class_name), spec)
            command = importlib.import_module(f"{IMPORT_NAME}.cli.commands.{endpoint.module}")
            properties = list(spec.input_schema["properties"])
            assert sorted(option.name for option in command.COMMAND.options) == sorted(properties)


def check_input_model(model: Any, spec: EndpointSpec) -> None:
    """Every property is a field under its wire name, with the spec's default."""
    properties: dict[str, Any] = spec.input_schema["properties"]
    model.model_rebuild()  # resolves references to models defined further down the module
    fields = {
        name if field.alias is None else field.alias: field
        for name, field in model.model_fields.items()
    }
    assert set(fields) == set(properties)
    required = set(spec.input_schema.get("required", []))
    for name, schema in properties.items():
        field = fields[name]
        if "default" not in schema:
            assert field.is_required() == (name in required), name
        elif holds_object(schema["default"]):
            assert not field.is_required(), name  # left to the server (see builder)
        else:
            # JSON text compares exactly: True is not 1, -0.0 is not 0.0.
            assert json.dumps(field.default) == json.dumps(schema["default"]), name


def holds_object(value: Any) -> bool:
    """Whether a default holds an object: the generated models leave those to the server."""
    return isinstance(value, dict) or (
        isinstance(value, list) and any(holds_object(item) for item in value)
    )
