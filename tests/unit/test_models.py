"""generator.models: the models' code of an endpoint module, lean and with one import block."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pydantic
import pytest

from generator import models
from generator.builder import SHARED_MODULE, build_package
from generator.loader import read_spec
from generator.models import model_modules
from generator.pipeline import load_package
from generator.workers import Workers
from tests.helpers import SPECS, importable, make_spec, write_spec

IMAGE = {
    "type": "object",
    "properties": {"url": {"type": "string"}, "width": {"type": "integer"}},
    "required": ["url"],
}


def test_an_endpoint_module_is_lean() -> None:
    documents = [
        make_spec(
            endpoint_id,
            {
                "prompt": {
                    "title": "Prompt",
                    "type": "string",
                    "description": "What to draw.",
                    "examples": ["a lighthouse"],
                },
                "mode": {"type": "string", "enum": ["a", "b"]},
                "Field": {"type": "integer", "minimum": 1},  # named like pydantic's Field
            },
            {"image": {"$ref": "#/components/schemas/Image"}},
            schemas={"Image": IMAGE},
        )
        for endpoint_id in ("fal-ai/one", "fal-ai/two")
    ]
    specs = [
        read_spec(f"{d['info']['x-fal-metadata']['endpointId']}.json", json.dumps(d).encode())
        for d in documents
    ]
    package = build_package(specs)
    code = model_modules(package, {"one", SHARED_MODULE})
    one = code["one"]
    lines = one.imports.splitlines()
    assert len([line for line in lines if line.startswith("from typing import")]) == 1
    assert "from ._shared import Image" in lines
    assert any(line.startswith("from pydantic import") and " as " in line for line in lines)
    assert "title=" not in one.body and "examples=" not in one.body
    assert '    """What to draw."""' in one.body
    assert "class OneInput(FalModel):" in one.body
    assert "class Image" in code[SHARED_MODULE].body and "class Image" not in one.body


def test_patterns_are_python_regular_expressions(tmp_path: Path) -> None:
    """The generator checks patterns with Python's re; the models must accept what it accepts
    (pydantic's default engine rejects look-arounds: the module would not import)."""
    from generator.output import write_tree
    from generator.pipeline import generate
    from generator.settings import Options

    code = {"type": "string", "pattern": "^(?=.*[0-9])[a-z0-9]+$"}
    write_spec(tmp_path / "specs", make_spec("fal-ai/coded", {"code": code}))
    write_tree(
        tmp_path / "out", generate(tmp_path / "specs", Options(import_name="re_models")).files
    )
    with importable(tmp_path / "out", "re_models"):
        module = importlib.import_module("re_models.endpoints.coded")
        assert module.CodedInput(code="a1").code == "a1"
        with pytest.raises(pydantic.ValidationError):
            module.CodedInput(code="ab")


def test_workers_and_calls_of_any_size_make_the_same_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Models are made in one call, or split over calls and over this process and workers
    started beforehand (see generator.workers): the code is the same."""
    package = load_package(SPECS)
    modules = {endpoint.module for endpoint in package.endpoints} | {SHARED_MODULE}
    alone = model_modules(package, modules)

    with Workers(1) as workers:  # one job: in the worker
        assert model_modules(package, modules, workers) == alone
    monkeypatch.setattr(models, "PARALLEL_ENDPOINTS", 2)
    monkeypatch.setattr(models, "_CALL_MODULES", 3)
    with Workers(1) as workers:  # calls of 3 modules, here and in the worker
        assert model_modules(package, modules, workers) == alone
    assert model_modules(package, modules) == alone  # calls of 3 modules, in new workers
