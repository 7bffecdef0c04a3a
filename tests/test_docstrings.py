"""What an IDE shows for the generated endpoint modules: every public method, sync and async,
documents each of its arguments with the field's facts; catalogue metadata reaches the module
and class docstrings; a deprecated endpoint is marked and warns when called."""

from __future__ import annotations

import ast
import asyncio
import importlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from generator.output import write_tree
from generator.pipeline import Options, generate_tree, load_package
from tests.helpers import GENERATED, SPECS, importable, make_spec, write_spec

ENDPOINTS = load_package(SPECS).endpoints
PUBLIC_METHODS = {"__call__", "submit", "run", "stream", "send", "realtime"}
IMPORT_NAME = "meta_models"
CATALOG = {
    "display_name": "Old Model [v1]",
    "category": "text-to-image",
    "description": "Makes images the old way.\n\nA second paragraph.",
    "status": "deprecated",
    "tags": ["legacy"],
}


def static_methods(source: str) -> dict[str, dict[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Class name -> public method name -> its definition, as an IDE reads the source."""
    classes = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {
                item.name: item
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name in PUBLIC_METHODS
            }
    return classes


def documented_arguments(docstring: str) -> list[str]:
    """The names of the ``Args:`` section's entries."""
    section = docstring.split("\nArgs:\n", 1)[1]
    return re.findall(r"^    (\*\*\w+|\w+): ", section, re.MULTILINE)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.module)
def test_every_public_method_documents_every_argument(endpoint: Any) -> None:
    path = GENERATED / "fal_models" / "endpoints" / f"{endpoint.module}.py"
    classes = static_methods(path.read_text(encoding="utf-8"))
    methods = [
        (class_name, method)
        for class_name, members in classes.items()
        if class_name.removeprefix("Async").startswith(endpoint.class_name)
        for method in members.values()
    ]
    names = {method.name for _, method in methods}
    expected = {"__call__", "submit", "run"}
    expected |= {"stream"} if "streaming" in endpoint.capabilities else set()
    expected |= {"send", "realtime"} if "realtime" in endpoint.capabilities else set()
    assert names == expected
    assert len(methods) == 2 * len(expected)  # sync and async
    for class_name, method in methods:
        docstring = ast.get_docstring(method)
        assert docstring, f"{class_name}.{method.name} has no docstring"
        arguments = [arg.arg for arg in method.args.kwonlyargs]
        if method.args.kwarg is not None:
            arguments.append(f"**{method.args.kwarg.arg}")
        assert documented_arguments(docstring) == arguments, f"{class_name}.{method.name}"


def test_an_argument_entry_has_the_fields_facts() -> None:
    source = (GENERATED / "fal_models" / "endpoints" / "fast_lcm_diffusion.py").read_text()
    methods = static_methods(source)["AsyncFastLcmDiffusion"]
    docstring = ast.get_docstring(methods["submit"]) or ""
    entry = re.search(r"^    image_size: (.*?)(?=^    \w)", docstring, re.MULTILINE | re.DOTALL)
    assert entry is not None
    assert " ".join(entry[1].split()) == (
        "The size of the generated image. One of ``'square_hd'``, ``'square'``,"
        " ``'portrait_4_3'``, ``'portrait_16_9'``, ``'landscape_4_3'``, ``'landscape_16_9'``,"
        " or an ``ImageSize``. Default: ``'square_hd'``."
    )
    assert "**options: ``webhook_url``, ``priority``" in docstring


@pytest.fixture(scope="module")
def meta_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ModuleType]]:
    """A package of two endpoints: one with fal's catalogue entry (deprecated), one without."""
    root = tmp_path_factory.mktemp("meta")
    old = make_spec(
        "fal-ai/old-model",
        {
            "prompt": {"type": "string", "description": "What to draw."},
            "steps": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4},
            "image_url": {"type": "string"},
        },
        required=["prompt"],
    )
    old["info"]["x-fal-catalog"] = CATALOG
    write_spec(root / "specs", old)
    write_spec(root / "specs", make_spec("fal-ai/new-model", {"prompt": {"type": "string"}}))
    write_tree(root / "out", generate_tree(root / "specs", Options(import_name=IMPORT_NAME)))
    with importable(root / "out", IMPORT_NAME):
        yield root / "out" / IMPORT_NAME, importlib.import_module(IMPORT_NAME)


def test_catalogue_metadata_reaches_module_and_class_docstrings(
    meta_package: tuple[Path, ModuleType],
) -> None:
    folder, _ = meta_package
    tree = ast.parse((folder / "endpoints" / "old_model.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree) == (
        "Old Model [v1] (fal-ai/old-model, text-to-image).\n\n"
        "Makes images the old way.\n\nA second paragraph.\n\n"
        "Deprecated: fal lists it as deprecated; calls warn (DeprecationWarning).\n\n"
        "Generated by falgen from the endpoint's OpenAPI document: do not edit."
    )
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for name, client in (("OldModel", "synchronous"), ("AsyncOldModel", "asynchronous")):
        docstring = ast.get_docstring(classes[name]) or ""
        assert docstring.startswith(
            f"Old Model [v1] (fal-ai/old-model, text-to-image) on the {client} client.\n\n"
            "Makes images the old way.\n\nA second paragraph.\n\nDeprecated: "
        )
    submit = static_methods(ast.unparse(tree))["OldModel"]["submit"]
    assert (ast.get_docstring(submit) or "").split("Args:\n")[1].splitlines()[:4] == [
        "    prompt: What to draw. Required.",
        "    steps: Constraints: ``1 <= value <= 8``. Default: ``4``.",
        "    image_url: A URL, or a local file (path, bytes, open file) that the client sends.",
        "    **options: ``webhook_url``, ``priority``, ``start_timeout``, ``hint`` (see",
    ]
    client = (folder / "_client.py").read_text(encoding="utf-8")
    assert '"""Deprecated. Old Model [v1] (fal-ai/old-model, text-to-image): Makes images the' in (
        client
    )


def _reply(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"seed": 1})


def test_a_deprecated_endpoint_warns_at_the_callers_line(
    meta_package: tuple[Path, ModuleType],
) -> None:
    _, package = meta_package
    transport = httpx.MockTransport(_reply)
    with package.FalClient(key="k", http_client=httpx.Client(transport=transport)) as fal:
        message = "^fal-ai/old-model is deprecated: fal lists it as deprecated$"
        with pytest.warns(DeprecationWarning, match=message) as caught:
            assert fal.old_model.run(prompt="a cat").seed == 1
        assert [Path(warning.filename) for warning in caught] == [Path(__file__)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert fal.new_model.run(prompt="a cat").seed == 1

    async def call() -> None:
        client = httpx.AsyncClient(transport=transport)
        async with package.AsyncFalClient(key="k", http_client=client) as fal:
            await fal.old_model.run(prompt="a cat")

    with pytest.warns(DeprecationWarning) as caught:
        asyncio.run(call())
    assert [Path(warning.filename) for warning in caught] == [Path(__file__)]
