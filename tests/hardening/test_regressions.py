"""The generator bugs the hardening tests found, one small case each."""

from __future__ import annotations

import ast
import importlib
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml

from generator.docs import md_code
from generator.output import write_tree
from generator.pipeline import load_package
from generator.render import docstring, tomlstr, yamlkey
from generator.settings import Options
from tests.hardening.checks import check_tree, render_tree
from tests.helpers import importable, make_spec, write_spec

IMPORT_NAME = "regression_models"
OPTIONS = Options(import_name=IMPORT_NAME, distribution="regression-models")
IMAGE = {"type": "object", "properties": {"$ref": {"type": "string"}, "url": {"type": "string"}}}


def specs() -> list[dict[str, Any]]:
    return [
        # "none" made the resource class and a model class `None`.
        make_spec(
            "fal-ai/none",
            {
                "n": {"$ref": "#/components/schemas/none"},
                # dcg named the schema root "Model" and renamed the component class "Model".
                "m": {"$ref": "#/components/schemas/?"},
                "m1": {"$ref": "#/components/schemas/Model1"},
                # A property named like a keyword whose value is data (default, examples, enum)
                # was dropped, and a "$ref" in it was neither checked nor followed.
                "default": {"$ref": "#/components/schemas/Image"},
                "examples": {"type": "string"},
                # A "$ref" inside a default is data, not a reference.
                "data": {"type": "object", "default": {"$ref": "#/components/schemas/Nope"}},
                # Required with a default: the signature lets it out, so must the model.
                "steps": {"type": "integer", "default": 4},
            },
            required=["steps"],
            schemas={
                "none": {"type": "object", "properties": {"x": {"type": "string"}}},
                "?": {"type": "object", "properties": {"x": {"type": "string"}}},
                "Model1": {"type": "object", "properties": {"y": {"type": "integer"}}},
                "Image": IMAGE,
            },
        ),
        make_spec(
            "fal-ai/unicode",
            {
                # Python folds identifiers to NFKC: "ﬁ" and "fi" were one attribute.
                "ﬁ": {"type": "string"},
                "fi": {"type": "integer"},
                "ß": {"type": "string"},
                # A property named "$ref" was left out of the structural hash, so that this
                # Image looked like the other endpoint's and was shared in its place.
                "image": {"$ref": "#/components/schemas/Image"},
                "described": {"$ref": "#/components/schemas/Described"},
            },
            schemas={
                "Image": {**IMAGE, "properties": {"$ref": {"type": "integer"}, "url": {}}},
                # NUL cannot be in Python source; dcg wrote descriptions into docstrings as is.
                "Described": {
                    "type": "object",
                    "description": "nul \x00, line separator \u2028, form feed \x0c",
                    "properties": {"d": {"type": "string", "description": "nul \x00"}},
                },
            },
        ),
        make_spec(
            "fal-ai/builtins",
            {
                # A property named like a builtin type shadowed it in the annotations of the
                # class (its default, None, became the "type"): the module did not import.
                "class": {"type": "integer"},
                "int": {"type": "string"},
                "str": {"type": "integer", "default": 1},
                "float": {"type": "boolean"},
                "bool": {"type": "number"},
                "dict": {"type": "object", "additionalProperties": {"type": "integer"}},
                "list": {"type": "array", "items": {"type": "string"}},
                "bytes": {"type": "string"},
                # A file object named like the runtime's base class of file objects was taken
                # for that base, and its class was not generated.
                "file": {"$ref": "#/components/schemas/FileModel"},
            },
            schemas={
                "FileModel": {
                    "type": "object",
                    "properties": {"url": {"type": "string"}, "content_type": {"type": "string"}},
                    "required": ["url"],
                }
            },
        ),
        # A default its pattern rejects was admitted as anyOf [constrained string, const]:
        # datamodel-code-generator made the constrained member a class named like the model
        # ("Class"), renamed the model, and the module did not import.
        make_spec(
            "fal-ai/constrained",
            {"self": {"$ref": "#/components/schemas/class"}},
            schemas={"class": CONSTRAINED_DEFAULT},
        ),
    ]


CONSTRAINED_DEFAULT = {
    "type": "object",
    "properties": {"class": {"type": "string", "pattern": "^[a-z]+$", "default": "zqxMarker"}},
}


def test_a_default_its_pattern_rejects(package: tuple[Any, dict[str, str]]) -> None:
    model = model_class(package, "fal-ai/constrained", "class")
    assert model().class_ == "zqxMarker" and model(**{"class": "Other"}).class_ == "Other"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    """The regression specs, rendered (not formatted: Python either way) and importable."""
    root = tmp_path_factory.mktemp("regressions")
    for document in specs():
        write_spec(root / "specs", document)
    package, files = render_tree(root / "specs", OPTIONS)
    write_tree(root / "out", files)
    with importable(root / "out", IMPORT_NAME):
        yield package, files


def endpoint_module(name: str) -> Any:
    return importlib.import_module(f"{IMPORT_NAME}.endpoints.{name}")


def model_class(package: tuple[Any, dict[str, str]], endpoint_id: str, component: str) -> Any:
    """The generated class of a component, found through the IR."""
    endpoint = next(item for item in package[0].endpoints if item.endpoint_id == endpoint_id)
    model = next(model for model in endpoint.models if model.name == component)
    return getattr(endpoint_module(endpoint.module), model.class_name)


def test_the_regression_specs_pass_every_check(package: tuple[Any, dict[str, str]]) -> None:
    check_tree(*package)


def test_keyword_class_names(package: tuple[Any, dict[str, str]]) -> None:
    (endpoint,) = (item for item in package[0].endpoints if item.endpoint_id == "fal-ai/none")
    assert (endpoint.class_name, endpoint.input.class_name) == ("NoneModel", "NoneModelInput")
    assert endpoint_module("none").NoneModel.endpoint_id == "fal-ai/none"
    assert set(model_class(package, "fal-ai/none", "none").model_fields) == {"x"}


def test_class_names_dcg_would_have_renamed(package: tuple[Any, dict[str, str]]) -> None:
    module = endpoint_module("none")
    assert set(module.Model.model_fields) == {"x"}
    assert set(module.Model1.model_fields) == {"y"}


def test_properties_named_like_value_keywords(package: tuple[Any, dict[str, str]]) -> None:
    model = model_class(package, "fal-ai/none", "NoneModelInput")
    model.model_rebuild()
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    assert {"default", "examples", "data"} <= aliases


def test_required_properties_with_defaults_may_be_left_out(
    package: tuple[Any, dict[str, str]],
) -> None:
    model = model_class(package, "fal-ai/none", "NoneModelInput")
    assert model.model_validate({}).steps == 4


def test_non_ascii_property_names_stay_distinct(package: tuple[Any, dict[str, str]]) -> None:
    model = endpoint_module("unicode").UnicodeInput
    fields = {field.alias or name: name for name, field in model.model_fields.items()}
    assert set(fields) == {"ﬁ", "fi", "ß", "image", "described"}
    assert all(name.isascii() for name in fields.values())
    sent = model.model_validate({"ﬁ": "a", "fi": 1, "ß": "b"}).model_dump(by_alias=True)
    assert sent == {"ﬁ": "a", "fi": 1, "ß": "b", "image": None, "described": None}


def test_models_differing_in_a_property_named_ref_are_not_merged(
    package: tuple[Any, dict[str, str]],
) -> None:
    generated, _ = package
    assert generated.shared_models == ()
    image = endpoint_module("unicode").Image
    assert image.model_validate({"$ref": 1}).model_dump(by_alias=True)["$ref"] == 1


def test_descriptions_with_nul_and_line_separators(package: tuple[Any, dict[str, str]]) -> None:
    described = endpoint_module("unicode").Described
    assert "line separator \u2028, form feed \x0c" in (described.__doc__ or "")
    assert "nul \\x00" in (described.__doc__ or "")


@pytest.mark.parametrize(
    "text", ['"""', 'a"""', '\\"""', '""""', '"', '\\"', "x\\", '"\\"', "\x00\u2028"]
)
def test_docstrings_ending_in_quotes(text: str) -> None:
    assert ast.literal_eval(docstring(text)) == text


@pytest.mark.parametrize("text", ["\U0001f600 astral", "\x00\x7f\x85\u2028\ufeff", 'a"b\\c\n'])
def test_toml_and_yaml_strings(text: str) -> None:
    assert tomllib.loads(f"a = {tomlstr(text)}")["a"] == text
    assert yaml.safe_load(f"a: {tomlstr(text)}")["a"] == text


def test_long_yaml_keys() -> None:
    key = "category " * 200
    loaded = yaml.safe_load(f"nav:\n  - {yamlkey(key, 4)}\n      - page.md\n")
    assert loaded == {"nav": [{key: ["page.md"]}]}


@pytest.mark.parametrize(
    "text", ["` def __init__(self) *x*", "a|b [l](u) {: #x }", "a\rb<script>", "\u2028"]
)
def test_inline_code_shows_its_text_literally_in_a_table(text: str) -> None:
    table = f"| a | b |\n| --- | --- |\n| {md_code(text)} | x |\n"
    html = markdown.markdown(table, extensions=["attr_list", "tables"])
    assert html.count("<td>") == 2
    assert "<script" not in html and "<em>" not in html and "<strong>" not in html
    assert "<a " not in html and 'id="x"' not in html


def test_a_ref_in_a_default_is_data(tmp_path: Path) -> None:
    write_spec(tmp_path, specs()[0])
    load_package(tmp_path, OPTIONS)  # raised KeyError: 'Nope'


def test_properties_named_like_builtin_types(package: tuple[Any, dict[str, str]]) -> None:
    model = model_class(package, "fal-ai/builtins", "BuiltinsInput")
    sent = {"class": 1, "int": "i", "str": 2, "float": True, "bool": 0.5, "dict": {"a": 1}}
    parsed = model.model_validate({**sent, "list": ["x"], "bytes": "b"})
    assert parsed.model_dump(by_alias=True, exclude_unset=True) == {
        **sent,
        "list": ["x"],
        "bytes": "b",
    }
    with pytest.raises(ValueError, match="int"):
        model.model_validate({"int": 5})


def test_a_file_model_named_like_the_runtime_base(package: tuple[Any, dict[str, str]]) -> None:
    file_class = model_class(package, "fal-ai/builtins", "FileModel")
    base = importlib.import_module(f"{IMPORT_NAME}._runtime").FileModel
    assert file_class is not base and issubclass(file_class, base)
    assert set(file_class.model_fields) == {"url", "content_type"}
