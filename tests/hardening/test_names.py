"""Properties of the naming functions every generated Python name comes from."""

from __future__ import annotations

import keyword

from hypothesis import example, given
from hypothesis import strategies as st

from generator.naming import param_name, pascal_name, snake_name, unique
from tests.hardening.strategies import NAME_WORDS, component_names, property_names

TEXT = st.one_of(property_names, st.text())


def safe(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


@given(TEXT)
def test_snake_names_are_ascii_identifiers(text: str) -> None:
    name = snake_name(text)
    assert name.isidentifier() and name.isascii() and name == name.lower()


@given(st.one_of(component_names, st.sampled_from(NAME_WORDS), st.text()))
@example("none")
@example("true")
@example("False")
def test_pascal_names_are_safe_identifiers(text: str) -> None:
    assert safe(pascal_name(text))
    assert safe(pascal_name(text, fallback="Field"))


@given(TEXT, st.sets(st.sampled_from([*NAME_WORDS, "field", "field_", "class_", "a_b"])))
@example(":", {"field", "field_"})  # the fallback and its underscored form both taken
def test_keyword_names_are_safe_and_avoid_the_reserved_ones(text: str, reserved: set[str]) -> None:
    name = param_name(text, reserved)
    assert safe(name) and not name.startswith("_")
    assert name not in reserved or name == text


@given(st.text(), st.sets(st.text()))
def test_unique_names_are_fresh_and_recorded(name: str, taken: set[str]) -> None:
    before = set(taken)
    chosen = unique(name, taken)
    assert chosen not in before and chosen.startswith(name) and taken == before | {chosen}
