"""generator.ir: how types spell themselves, what fields and endpoints derive, and that the IR
survives the local cache (pickling) unchanged."""

from __future__ import annotations

import copy
import pickle

import pytest

from generator.ir import (
    MISSING,
    AnyType,
    Constraints,
    DictType,
    Field,
    FileInputType,
    ListType,
    LiteralType,
    ModelRef,
    NoneType,
    Primitive,
    Problem,
    SequenceType,
    TupleType,
    UnionType,
    accepting_files,
    fingerprint,
    walk_types,
)
from generator.pipeline import load_package
from tests.helpers import SPECS

STR = Primitive("str")


def test_annotations_use_one_import_style() -> None:
    assert AnyType().annotation() == "Any"
    assert LiteralType(("a", 1)).annotation() == "Literal['a', 1]"
    assert TupleType((STR, NoneType())).annotation() == "tuple[str, None]"
    assert DictType(ListType(STR)).annotation() == "dict[str, list[str]]"
    assert ModelRef("Image", shared=True).annotation() == "Image"  # imported by name
    assert UnionType((STR, NoneType())).annotation() == "str | None"


def test_files_widen_strings_only() -> None:
    widened = accepting_files(UnionType((ListType(STR), Primitive("int"))))
    assert widened == UnionType((SequenceType(UnionType((STR, FileInputType()))), Primitive("int")))
    assert list(walk_types(widened))[-1] == Primitive("int")
    assert FileInputType() in walk_types(widened)


def test_constraints_in_words() -> None:
    assert Constraints(minimum=1.0, exclusive_maximum=4.5).describe() == "1 <= value < 4.5"
    assert Constraints(max_items=3, pattern="^a").describe() == "max items 3, pattern ^a"
    assert Constraints().describe() == ""


def test_a_field_is_optional_when_not_required_or_defaulted() -> None:
    required = Field(name="p", param="p", type=STR, required=True)
    defaulted = Field(name="p", param="p", type=STR, required=True, default="x")
    assert not required.optional and defaulted.optional and defaulted.has_default


def test_problems_print_on_one_line() -> None:
    problem = Problem("a\nb.json", "#/x", "bad\u202evalue", "degraded")
    assert str(problem) == "a\\nb.json: #/x: bad\\u202evalue"


def test_the_ir_survives_pickling() -> None:
    field = Field(name="p", param="p", type=STR, required=False)
    copied = pickle.loads(pickle.dumps(field))
    assert copied == field and copied.default is MISSING and not copied.has_default
    assert fingerprint(copied) == fingerprint(field) != fingerprint(field, "other")


def test_a_pickled_endpoint_loads_its_models_when_first_read() -> None:
    """The local cache holds every endpoint; a generation reads the models of few of them."""
    (endpoint, *_) = load_package(SPECS).endpoints
    restored = pickle.loads(pickle.dumps(endpoint))

    # What the package-wide files read is there without the models.
    assert restored.fingerprint == endpoint.fingerprint
    assert restored.outline == endpoint.outline
    assert restored.module == endpoint.module
    assert "models" not in vars(restored)
    # Pickled again before they were read, the models travel along.
    again = copy.deepcopy(pickle.loads(pickle.dumps(restored)))
    assert "models" not in vars(restored)

    assert restored.models == endpoint.models and "models" in vars(restored)
    assert restored == endpoint and repr(restored) == repr(endpoint) and again == endpoint
    assert fingerprint(restored) == endpoint.fingerprint
    with pytest.raises(AttributeError, match="no attribute 'modles'"):
        restored.modles  # noqa: B018


def test_an_outline_is_what_the_input_and_output_say() -> None:
    (endpoint,) = [e for e in load_package(SPECS).endpoints if e.module == "flux_1_schnell"]
    required = [f.name for f in endpoint.input.fields if f.required and not f.has_default]
    assert endpoint.outline.required == tuple(required) == ("prompt",)
    assert endpoint.outline.optional == len(endpoint.input.fields) - 1
    assert endpoint.outline.outputs == tuple(f.name for f in endpoint.output.fields)
