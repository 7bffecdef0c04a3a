"""The render filters: every string from a spec reaches the output through one of them."""

from __future__ import annotations

import ast
import tomllib

import black
import pytest
import yaml

from generator.ir import MISSING, Field, ListType, LiteralType, ModelRef, Primitive, UnionType
from generator.output import LINE_LENGTH, format_python
from generator.render import docstring, parameter, pyrepr, str_width, tomlstr, yamlkey

HOSTILE = [
    "",
    'a "quoted" word',
    '"""',
    'ends with a quote"',
    "back\\slash\\",
    "line\nbreak\r\nand\ttab",
    "nul \x00 and bell \x07",
    "bidi \u202e override",
    "astral \U0001f600 and ideographs 名前",
    "{{ jinja }} {% block %}",
    "lone surrogate \ud800",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_pyrepr_is_a_literal_of_the_same_value(text: str) -> None:
    value = {"key": [text, 1, 2.5, True, None]}
    assert ast.literal_eval(pyrepr(value)) == value


def test_pyrepr_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        pyrepr({1, 2})


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\ud800" not in t])
def test_tomlstr_is_a_toml_and_yaml_string_of_the_same_value(text: str) -> None:
    assert tomllib.loads(f"key = {tomlstr(text)}")["key"] == text
    assert yaml.safe_load(f"key: {tomlstr(text)}")["key"] == text
    assert tomlstr(text).isascii()


def test_yamlkey_writes_long_keys_explicitly() -> None:
    short, long = "a: key", "k" * 2000
    assert yaml.safe_load(f"{yamlkey(short, 0)} 1") == {short: 1}
    assert yamlkey(long, 2).startswith("? ")
    assert yaml.safe_load(f"{yamlkey(long, 0)} 1") == {long: 1}


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\ud800" not in t])
def test_docstring_is_a_string_literal_of_the_same_value(text: str) -> None:
    """A multi-line docstring closes on a line of its own (PEP 257), so its value gains the
    final line break; the text is otherwise kept exactly, whatever it holds."""
    literal = docstring(text)
    value = ast.literal_eval(literal)
    assert value == (text + "\n" if "\n" in text else text)
    assert literal.startswith('"""') and literal.endswith('"""')


def test_docstring_indents_the_lines_after_the_first() -> None:
    assert docstring("one\ntwo\n\nthree", 4) == '"""one\n    two\n\n    three\n    """'


def _field(name: str, type_: object, *, required: bool, file: bool = False) -> Field:
    return Field(name=name, param=name, type=type_, required=required, default=MISSING, file=file)  # type: ignore[arg-type]


LONG_LITERAL = LiteralType(tuple(f"value_{index}" for index in range(14)))
FIELDS = [
    _field("seed", Primitive("int"), required=False),
    _field("prompt", Primitive("str"), required=True),
    _field("image_url", Primitive("str"), required=True, file=True),
    _field("voice", LONG_LITERAL, required=True),
    _field("voice_choice", LONG_LITERAL, required=False),
    _field("size", UnionType((ModelRef("ImageSize", shared=False), LONG_LITERAL)), required=True),
    _field(
        "sizes", ListType(UnionType((ModelRef("ImageSize", True), LONG_LITERAL))), required=False
    ),
    _field("a" * 60, UnionType((Primitive("str"), Primitive("int"))), required=False),
]


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name[:20])
def test_parameter_lines_are_laid_out_as_black_lays_them_out(field: Field) -> None:
    """The generated signatures are formatted by ruff; black must agree on every layout the
    parameter filter chooses (long unions are parenthesised, as black does)."""
    source = (
        "class Endpoint:\n"
        "    def __call__(\n"
        "        self,\n"
        "        *,\n"
        f"        {parameter(field, 8)}\n"
        "    ) -> None:\n"
        "        pass\n"
    )
    formatted = format_python(source)
    mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)
    assert black.format_str(formatted, mode=mode) == formatted
    ast.parse(formatted)


def test_parameter_of_a_file_field_accepts_local_files() -> None:
    line = parameter(_field("image_url", Primitive("str"), required=True, file=True), 8)
    assert line == "image_url: str | _rt.FileInput,"


def test_str_width_counts_wide_characters_twice() -> None:
    assert str_width("abc") == 3
    assert str_width("名前") == 4
