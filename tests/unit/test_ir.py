"""generator.ir: how types spell themselves, what fields and endpoints derive, and that the IR
survives the local cache (pickling) unchanged."""

from __future__ import annotations

import pickle

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
