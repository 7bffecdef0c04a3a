"""Hostile specs with one defect each: the defect is reported as ``file: #/pointer: message``
lines of printable text (whatever names are involved), never as another exception; strictly,
the command writes nothing, else the endpoint is degraded or skipped and the others generate."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from generator.cli import main
from generator.errors import SpecErrors
from generator.loader import MAX_DEPTH, UNSUPPORTED_KEYWORDS, problem_error
from generator.pipeline import load_package
from generator.settings import Options
from tests.hardening.strategies import (
    EndpointSpec,
    component_names,
    hostile_text,
    property_names,
    ref,
    spec_folders,
)
from tests.helpers import write_spec


@st.composite
def defects(draw: st.DrawFn, spec: EndpointSpec) -> tuple[str, Any]:
    """A schema that is wrong in one way, and how: to put in place of an input property."""
    kind = draw(
        st.sampled_from(
            (
                "dangling",
                "unsupported",
                "type",
                "remote",
                "allOf",
                "enum",
                "deep",
                "cycle",
                "surrogate",
                "required",
            )
        )
    )
    if kind == "dangling":
        name = draw(component_names)
        known = spec.document["components"]["schemas"]
        return kind, ref(name) if name not in known else {"$ref": "#/components/schemas/"}
    if kind == "unsupported":
        return kind, {draw(st.sampled_from(UNSUPPORTED_KEYWORDS)): {"type": "string"}}
    if kind == "type":
        return kind, {"type": draw(st.one_of(hostile_text(), st.integers(), st.none()))}
    if kind == "remote":
        return kind, {"$ref": draw(hostile_text()) + "#/components/schemas/X"}
    if kind == "allOf":
        return kind, {"allOf": [{"type": "string"}, {"description": draw(hostile_text())}]}
    if kind == "enum":
        return kind, {"enum": [{draw(property_names): draw(hostile_text())}]}
    if kind == "deep":
        node: dict[str, Any] = {"type": "string"}
        for _ in range(MAX_DEPTH):
            node = {"type": "array", "items": node}
        return kind, node
    if kind == "cycle":  # a component that refers to itself, under a hostile name
        name = draw(component_names)
        spec.document["components"]["schemas"][name] = {
            "type": "object",
            "properties": {draw(property_names): ref(name)},
        }
        return kind, ref(name)
    if kind == "surrogate":
        return kind, {"type": "string", "description": draw(hostile_text()) + "\ud800"}
    missing = draw(property_names.filter(lambda name: name != "present"))
    return kind, {
        "type": "object",
        "properties": {"present": {"type": "string"}},
        "required": [missing],
    }


@st.composite
def malformed(draw: st.DrawFn) -> tuple[list[EndpointSpec], str]:
    specs = draw(spec_folders(max_endpoints=2))
    spec = draw(st.sampled_from(specs))
    kind, schema = draw(defects(spec))
    properties = spec.input_schema["properties"]
    properties[draw(st.sampled_from(sorted(properties)))] = schema
    return specs, kind


@given(malformed())
def test_a_defect_is_reported_as_lines_naming_file_and_pointer(
    case: tuple[list[EndpointSpec], str],
) -> None:
    specs, _ = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for spec in specs:
            write_spec(root / "specs", spec.document)
        sources = {f"{spec.endpoint_id}.json" for spec in specs}
        try:
            load_package(root / "specs", Options(strict=True))
        except SpecErrors as problem:
            errors = problem.errors
        else:
            raise AssertionError("the defect went unnoticed")
        try:  # not strictly: the problem is worked around, or the endpoint left out
            package = load_package(root / "specs", Options())
        except SpecErrors as problem:  # nothing left to generate
            assert len(specs) == 1 and problem.errors, problem
        else:
            assert [str(problem_error(problem)) for problem in package.problems] == [
                str(error) for error in errors
            ]
        lines = [str(error) for error in errors]
        for error, line in zip(errors, lines, strict=True):
            assert error.source in sources and error.pointer.startswith("#"), line
            assert line.isprintable() and line.startswith(f"{error.source}: #"), line

        out = root / "out"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = main(["generate", "--strict", "--specs", str(root / "specs"), "--out", str(out)])
        assert code == 1
        assert stderr.getvalue().splitlines()[1:] == [f"  {line}" for line in lines]
        assert not out.exists()
