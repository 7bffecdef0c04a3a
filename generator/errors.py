"""Errors the generator reports to users: each names the spec file and a JSON pointer."""

from __future__ import annotations

from collections.abc import Sequence


def printable(text: str) -> str:
    """``text`` with every non-printable character (line breaks, controls, bidirectional
    overrides, lone surrogates) written as a Python escape, as ``repr`` does."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class SpecError(Exception):
    """A problem in one spec document, located by file and JSON pointer."""

    def __init__(self, source: str, pointer: str, message: str) -> None:
        # One line of printable text, whatever names from the spec the pointer or message hold.
        super().__init__(f"{printable(source)}: {printable(pointer)}: {printable(message)}")
        self.source = source
        self.pointer = pointer
        self.message = message

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, str, str]]:
        return type(self), (self.source, self.pointer, self.message)  # the cache, workers


class SpecErrors(Exception):
    """Several spec problems found in one run, reported together."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))

    def __reduce__(self) -> tuple[type[SpecErrors], tuple[list[SpecError]]]:
        return type(self), (self.errors,)


class GenerationError(Exception):
    """Generation failed for a reason that is not a spec problem (templates, formatter, output)."""
