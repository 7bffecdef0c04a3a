"""Turning arbitrary spec strings into safe, unique Python names."""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^0-9A-Za-z]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def article(word: str) -> str:
    """The indefinite article before ``word``, by its first letter: ``an ImageSize``, ``a str``
    (``an`` before nothing: ``an`` endpoint of no category)."""
    return "an" if word[:1].lower() in ("", "a", "e", "i", "o", "u") else "a"


def words(text: str) -> list[str]:
    """ASCII alphanumeric runs of ``text``; everything else separates words."""
    return [part for part in _NON_WORD.split(text) if part]


def snake_name(text: str, *, fallback: str = "value") -> str:
    """``fal-ai/flux-1/Schnell`` -> ``fal_ai_flux_1_schnell``: a lower-case identifier."""
    name = "_".join(part.lower() for part in words(text)) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


def pascal_name(text: str, *, fallback: str = "Model") -> str:
    """``registry__image__Image`` -> ``RegistryImageImage``, keeping inner capitals.

    Never a keyword: ``none`` gives ``NoneModel`` (with the default ``fallback``), not ``None``.
    """
    name = "".join(part[0].upper() + part[1:] for part in words(text)) or fallback
    if name[0].isdigit():
        name = fallback + name
    if keyword.iskeyword(name):
        name += fallback
    return name


def ascii_identifier(text: str, *, prefix: str = "field") -> str:
    """``名前`` -> ``field_u540d_u524d``: ``prefix`` and the ASCII letters and digits of
    ``text``, every other character spelled by its code point."""
    spelled = "".join(
        char if char.isascii() and char.isalnum() else f"_u{ord(char):x}_" for char in text
    )
    body = "_".join(part for part in spelled.split("_") if part)
    return f"{prefix}_{body}" if body else prefix


def is_safe_identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


def param_name(wire_name: str, reserved: Iterable[str]) -> str:
    """A keyword-argument name for a JSON property; the wire name itself whenever possible."""
    taken = set(reserved)
    if is_safe_identifier(wire_name) and not wire_name.startswith("_") and wire_name not in taken:
        return wire_name
    parts = _CAMEL_BOUNDARY.sub("_", wire_name)
    name = snake_name(parts, fallback="field")
    while keyword.iskeyword(name) or name in taken:  # ``field`` and ``field_`` may both be taken
        name += "_"
    return name


def unique(name: str, taken: set[str], *, separator: str = "") -> str:
    """``name``, or ``name2``, ``name3``... whichever is not yet in ``taken``; records it."""
    candidate, counter = name, 1
    while candidate in taken:
        counter += 1
        candidate = f"{name}{separator}{counter}"
    taken.add(candidate)
    return candidate


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class EndpointNames:
    """The names an endpoint is known by: its module (also the client attribute, and with
    dashes its CLI command and docs page) and its resource class (``Async`` + it too)."""

    module: str
    class_name: str


def prose(text: str) -> list[str]:
    """Spec prose as paragraphs (split at blank lines), each on one line."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]
