"""generator.naming and the names endpoints get (generator.builder.endpoint_names): safe,
unique, readable, and never changed by adding endpoints."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from generator.builder import MAX_CLASS_NAME, MAX_MODULE_NAME, endpoint_names
from generator.ir import Package
from generator.naming import (
    EndpointNames,
    ascii_identifier,
    is_safe_identifier,
    param_name,
    pascal_name,
    snake_name,
    unique,
)
from generator.pipeline import load_package
from generator.settings import Options
from tests.helpers import CATALOG, explode_catalog, make_spec, write_spec


def test_snake_and_pascal_names() -> None:
    assert snake_name("fal-ai/flux-1/Schnell") == "fal_ai_flux_1_schnell"
    assert snake_name("3d/x") == "value_3d_x"
    assert snake_name("---", fallback="endpoint") == "endpoint"
    assert pascal_name("registry__image__Image") == "RegistryImageImage"
    assert pascal_name("none") == "NoneModel"
    assert pascal_name("") == "Model"


def test_identifiers() -> None:
    assert ascii_identifier("名前") == "field_u540d_u524d"
    assert is_safe_identifier("seed") and not is_safe_identifier("class")
    assert not is_safe_identifier("ﬁ")  # not ASCII: Python would fold it to "fi"
    assert param_name("class", ["self"]) == "class_"
    assert param_name("image-size", ["self"]) == "image_size"
    assert param_name("imageSize", ["self"]) == "imageSize"  # usable as it is
    taken = {"a", "a2"}
    assert unique("a", taken) == "a3" and "a3" in taken


def test_endpoint_names_are_readable() -> None:
    names = endpoint_names(["fal-ai/flux-1/schnell", "bria/fibo/generate", "fal-ai/status"])
    assert names == {
        "bria/fibo/generate": EndpointNames("bria_fibo_generate", "BriaFiboGenerate"),
        "fal-ai/flux-1/schnell": EndpointNames("flux_1_schnell", "Flux1Schnell"),
        # not the CLI's own "status" command
        "fal-ai/status": EndpointNames("status_endpoint", "StatusEndpoint"),
    }


COLLIDING = [
    ["bria/fibo/generate"],
    ["fal-ai/bria/fibo/generate"],  # same module name without fal's owner
    ["fal-ai/flux-1/schnell"],
    ["fal-ai/flux-1-schnell", "fal-ai/flux1/schnell"],  # same module / class name
    ["fal-ai/" + "very-long-name/" * 8 + "a", "fal-ai/" + "very-long-name/" * 8 + "b"],
]


def test_adding_endpoints_never_renames_one() -> None:
    previous: dict[str, EndpointNames] = {}
    for batch in COLLIDING:
        names = endpoint_names([*previous, *batch], previous)
        assert {key: names[key] for key in previous} == previous
        modules = [chosen.module for chosen in names.values()]
        classes = [chosen.class_name for chosen in names.values()]
        assert len(set(modules)) == len(modules) and len(set(classes)) == len(classes)
        assert all(len(module) <= MAX_MODULE_NAME for module in modules)
        assert all(len(name) <= MAX_CLASS_NAME for name in classes)
        previous = names
    assert previous["fal-ai/bria/fibo/generate"].module == "fal_ai_bria_fibo_generate"
    assert previous["fal-ai/flux-1-schnell"].class_name == "FalAiFlux1Schnell"


def test_recorded_names_are_checked_and_kept_for_skipped_endpoints() -> None:
    forged = {
        "fal-ai/a": EndpointNames("os; import x", "A"),  # not an identifier
        "fal-ai/b": EndpointNames("b", "Literal"),  # a name the modules import
        "fal-ai/c": EndpointNames("taken_by_c", "TakenByC"),
    }
    names = endpoint_names(["fal-ai/a", "fal-ai/b", "fal-ai/taken-by-c"], forged, {"fal-ai/c"})
    assert names == {
        "fal-ai/a": EndpointNames("a", "A"),
        "fal-ai/b": EndpointNames("b", "B"),
        # fal-ai/c is skipped this time: its names stay its own
        "fal-ai/taken-by-c": EndpointNames("fal_ai_taken_by_c", "FalAiTakenByC"),
    }


def public_names(package: Package) -> dict[str, str]:
    """Every name a user can import or call, with a digest of what it means."""
    shared = {model.class_name: model for model in package.shared_models}
    names = {}
    for endpoint in package.endpoints:
        where = f"{endpoint.endpoint_id}: "
        names[where + "module"] = endpoint.module
        names[where + "attribute"] = endpoint.attribute
        names[where + "class"] = endpoint.class_name
        models = [*endpoint.models, *(shared[name] for name in endpoint.shared_models)]
        for model in models:
            # A reference names its target class (which the module defines or imports by that
            # name), wherever that class is defined.
            schema = re.sub(r'"#/\$defs/[^".]+\.', '"', json.dumps(model.schema, sort_keys=True))
            names[where + model.class_name] = hashlib.sha256(schema.encode()).hexdigest()
    return names


def test_adding_endpoints_to_a_package_never_renames_anything(tmp_path: Path) -> None:
    """Shared models move to the private module as endpoints come and go; the names an
    endpoint module exports keep their meaning."""
    image = {
        "type": "object",
        "properties": {"url": {"type": "string"}, "width": {"type": "integer"}},
        "required": ["url"],
    }
    other = {**image, "properties": {**image["properties"], "height": {"type": "integer"}}}
    specs = tmp_path / "specs"

    def add(endpoint_id: str, variant: dict[str, object]) -> None:
        write_spec(
            specs,
            make_spec(
                endpoint_id,
                {"image": {"$ref": "#/components/schemas/Image"}},
                schemas={"Image": variant},
            ),
        )

    add("fal-ai/one", image)
    add("fal-ai/two", other)
    before = load_package(specs)
    add("fal-ai/three", other)  # "other" is now used twice: shared
    add("one/x", image)
    add("fal-ai/one/x", image)
    names = {e.endpoint_id: EndpointNames(e.module, e.class_name) for e in before.endpoints}
    after = load_package(specs, names=names)

    assert after.shared_models and not before.shared_models
    old, new = public_names(before), public_names(after)
    assert {key: new[key] for key in old} == old


def test_adding_catalogue_endpoints_never_renames_anything(tmp_path: Path) -> None:

    if not CATALOG.is_dir() or not any(CATALOG.glob("*.json")):
        pytest.skip(f"no catalogue: {CATALOG} holds no *.json file")
    every = tmp_path / "every"
    explode_catalog(every)
    sources = sorted(path.relative_to(every) for path in every.rglob("*.json"))
    subset = tmp_path / "subset"
    for source in sources[::3]:
        (subset / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(every / source, subset / source)
    options = Options()
    before = load_package(subset, options)
    names = {e.endpoint_id: EndpointNames(e.module, e.class_name) for e in before.endpoints}
    after = load_package(every, options, names=names)
    old, new = public_names(before), public_names(after)
    assert {key: new.get(key) for key in old} == old
