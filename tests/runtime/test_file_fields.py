"""The generator's decisions about files: which inputs take local files, which outputs are
file objects, and how the keyword arguments accept them."""

from __future__ import annotations

from pathlib import Path

from generator.builder import build_package
from generator.ir import ListType, Primitive, SequenceType, UnionType, accepting_files
from generator.loader import load_specs
from generator.render import parameter
from tests.helpers import make_spec, write_spec

FILE_SCHEMA = {
    "File": {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "content_type": {"type": "string"},
            "file_name": {"type": "string"},
        },
        "required": ["url"],
    },
    "Point": {"type": "object", "properties": {"url": {"type": "integer"}, "content_type": {}}},
}


def test_file_inputs_and_file_outputs(tmp_path: Path) -> None:
    document = make_spec(
        "acme/editor",
        {
            "image_url": {"type": "string"},
            "mask_urls": {"type": "array", "items": {"type": "string"}},
            "reference": {"type": "string", "x-fal": {"max_file_size": 1000}},
            "callback_url": {"type": "integer"},
            "prompt": {"type": "string"},
            "maybe_url": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        {
            "file": {"$ref": "#/components/schemas/File"},
            "point": {"$ref": "#/components/schemas/Point"},
        },
        required=["image_url"],
        schemas=FILE_SCHEMA,
    )
    write_spec(tmp_path, document)
    (endpoint,) = build_package(load_specs(tmp_path)).endpoints
    assert endpoint.file_fields == ("image_url", "mask_urls", "reference", "maybe_url")
    keywords = {field.name: parameter(field, indent=8) for field in endpoint.input.fields}
    assert keywords["image_url"] == "image_url: str | _rt.FileInput,"
    assert keywords["mask_urls"].startswith("mask_urls: Sequence[str | _rt.FileInput] |")
    assert keywords["maybe_url"].startswith("maybe_url: str | _rt.FileInput | None |")
    assert keywords["callback_url"].startswith("callback_url: int |")
    files = {model.class_name: model.is_file for model in endpoint.models}
    assert files == {"EditorInput": False, "EditorOutput": False, "File": True, "Point": False}


def test_accepting_files_widens_strings_only() -> None:
    assert accepting_files(Primitive("int")) == Primitive("int")
    widened = accepting_files(UnionType((ListType(Primitive("str")), Primitive("bool"))))
    assert isinstance(widened, UnionType) and isinstance(widened.options[0], SequenceType)
    assert widened.annotation() == "Sequence[str | _rt.FileInput] | bool"


def test_generated_file_models_derive_from_the_runtime_base(
    generated_files: dict[str, str],
) -> None:
    shared = generated_files["fal_models/endpoints/_shared.py"]
    assert "from fal_models._runtime import FalModel, FileModel" in shared
    assert "class Image(FileModel):" in shared and "class ImageFile(FileModel):" in shared
    assert "class File(FileModel):" in generated_files["fal_models/endpoints/ideogram_v2.py"]
    assert "class ImageSize(FalModel):" in shared
