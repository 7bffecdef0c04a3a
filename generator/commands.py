"""The generated CLI's command tables: one option per input field, derived from the IR.

Each endpoint becomes a subcommand (``fal-models flux-1-schnell``) whose options are plain data
(:class:`Option`), rendered into a small module per endpoint so that ``--help`` of one command
loads nothing else. The value forms each ``kind`` accepts are parsed by the generated package's
``cli/_spec.py``; :func:`argv_for` is their inverse, used to write CLI examples in the docs.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from .ir import (
    MISSING,
    Endpoint,
    Field,
    JSONValue,
    ListType,
    LiteralType,
    Model,
    ModelRef,
    NoneType,
    Package,
    Primitive,
    TypeExpr,
    UnionType,
)
from .naming import prose, unique

Kind = Literal["str", "int", "float", "bool", "choice", "file", "object", "json"]
QUEUE_COMMANDS = ("status", "result", "cancel")  # commands of the CLI itself
# Options of the endpoint commands themselves; a field whose flag would clash gets a prefix.
RESERVED_FLAGS = frozenset(
    {
        "--help",
        "--input",
        "--json",
        "--output-dir",
        "--overwrite",
        "--no-wait",
        "--quiet",
        "--webhook-url",
        "-h",
    }
)
FIELD_PREFIX = "--field-"


@dataclass(frozen=True)
class Option:
    """One input field as a command-line option (mirrored by ``Option`` in ``cli/_spec.py``)."""

    name: str  # the JSON property name
    param: str  # the keyword argument of the client methods
    flag: str  # e.g. ``--num-images``; booleans also accept ``--no-<flag>``
    kind: Kind  # how one value is parsed; of each item for lists
    repeat: bool  # a list: the option may be repeated, or given a JSON array
    required: bool
    # Allowed values (``choice``), or presets (``object``).
    choices: tuple[str | int | float | bool, ...]
    dimensions: bool  # ``object`` accepts ``WIDTHxHEIGHT``
    metavar: str
    help: str

    @property
    def negative_flag(self) -> str:
        return "--no-" + self.flag.removeprefix("--")


@dataclass(frozen=True)
class Command:
    program: str  # the console script, named like the distribution
    name: str  # the subcommand, e.g. ``flux-1-schnell``
    # Left out of the repr: the endpoint's fingerprint keys the command's file.
    endpoint: Endpoint = dataclasses.field(repr=False)
    summary: str  # one line for the command list; may be empty
    # The shared models by class name (the endpoint's fields may refer to them).
    shared: Mapping[str, Model] = dataclasses.field(repr=False, compare=False)

    @functools.cached_property
    def options(self) -> tuple[Option, ...]:
        """The input fields as options; made when first asked for (the command list needs only
        the names)."""
        # Local class names are unique within their endpoint module only.
        models = {(name, True): model for name, model in self.shared.items()}
        models |= {(model.class_name, False): model for model in self.endpoint.models}
        taken = set(RESERVED_FLAGS)
        return tuple(_option(field, models, taken) for field in self.endpoint.input.fields)

    @property
    def description(self) -> str:
        """The ``--help`` text above the options: a deprecation note, the display name and
        summary, then the id and category."""
        endpoint = self.endpoint
        where = f"Endpoint: {endpoint.endpoint_id}" + (
            f" ({endpoint.category})." if endpoint.category else "."
        )
        return "\n\n".join(
            part
            for part in (
                f"Deprecated: {endpoint.deprecation}; it may stop working."
                if endpoint.deprecated
                else "",
                f"{endpoint.own_name}." if endpoint.own_name else "",
                *re.split(r"\n\s*\n", endpoint.summary.strip()),
                where,
            )
            if part.strip()
        )

    @property
    def help_line(self) -> str:
        """The command's line in ``fal-models --help``: deprecation, display name, summary."""
        endpoint = self.endpoint
        line = ": ".join(part for part in (endpoint.own_name, self.summary) if part)
        return f"[deprecated] {line}".strip() if endpoint.deprecated else line

    @property
    def example(self) -> str:
        """A command sending the spec's example input (empty without one)."""
        if not self.endpoint.example_input:
            return ""
        return shell_command(argv_for(self, self.endpoint.example_input))


def command_name(endpoint: Endpoint) -> str:
    """The module name with dashes; never one of the queue commands."""
    name = endpoint.module.replace("_", "-")
    return f"{name}-endpoint" if name in QUEUE_COMMANDS else name


def build_commands(package: Package) -> tuple[Command, ...]:
    shared = {model.class_name: model for model in package.shared_models}
    return tuple(
        Command(
            program=package.distribution,
            name=command_name(endpoint),
            endpoint=endpoint,
            summary=first_sentence(endpoint.summary),
            shared=shared,
        )
        for endpoint in package.endpoints
    )


def first_sentence(text: str) -> str:
    paragraph = next(iter(prose(text)), "")
    match = re.match(r"(.+?[.!?])(\s|$)", paragraph)
    return match.group(1) if match else paragraph


def _option(field: Field, models: Mapping[tuple[str, bool], Model], taken: set[str]) -> Option:
    kind, repeat, choices, dimensions = classify(field, models)
    flag = "--" + field.name.replace("_", "-")
    if not re.fullmatch(r"--[A-Za-z0-9][A-Za-z0-9-]*", flag) or flag in taken:
        flag = FIELD_PREFIX + re.sub(r"[^A-Za-z0-9]+", "-", field.param).strip("-").lower()
    flag = unique(flag, taken, separator="-")
    if kind == "bool":
        taken.add("--no-" + flag.removeprefix("--"))
    metavar = _metavar(field, kind, choices, dimensions)
    return Option(
        name=field.name,
        param=field.param,
        flag=flag,
        kind=kind,
        repeat=repeat,
        required=not field.optional,
        choices=choices,
        dimensions=dimensions,
        metavar=metavar,
        help=_help(field, kind, repeat, choices, dimensions, listed="{" in metavar),
    )


def classify(
    field: Field, models: Mapping[tuple[str, bool], Model]
) -> tuple[Kind, bool, tuple[str | int | float | bool, ...], bool]:
    """(kind, repeat, choices, dimensions) of a field; anything unusual is taken as JSON."""
    kind_type = _without_none(field.type)
    is_file = field.file
    if isinstance(kind_type, ListType):
        item = _without_none(kind_type.item)
        scalar = _scalar_kind(item, is_file)
        return (scalar or "json", True, _choices(item), False)
    if (scalar := _scalar_kind(kind_type, is_file)) is not None:
        return scalar, False, _choices(kind_type), False
    if isinstance(kind_type, UnionType):
        refs = [option for option in kind_type.options if isinstance(option, ModelRef)]
        literals = [option for option in kind_type.options if isinstance(option, LiteralType)]
        if refs and literals and len(refs) + len(literals) == len(kind_type.options):
            presets = tuple(value for literal in literals for value in literal.values)
            if all(isinstance(value, str) for value in presets):
                sized = len(refs) == 1 and _has_dimensions(models.get(_key(refs[0])))
                return "object", False, presets, sized
    return "json", False, (), False


def _without_none(type_: TypeExpr) -> TypeExpr:
    if isinstance(type_, UnionType):
        options = tuple(option for option in type_.options if not isinstance(option, NoneType))
        return options[0] if len(options) == 1 else UnionType(options)
    return type_


def _scalar_kind(type_: TypeExpr, is_file: bool) -> Kind | None:
    if isinstance(type_, LiteralType):
        return "choice"
    if isinstance(type_, Primitive):
        if type_.name == "str" or type_.name == "bytes":
            return "file" if is_file else "str"
        return type_.name
    return None


def _choices(type_: TypeExpr) -> tuple[str | int | float | bool, ...]:
    return type_.values if isinstance(type_, LiteralType) else ()


def _key(ref: ModelRef) -> tuple[str, bool]:
    return (ref.class_name, ref.shared)


def _has_dimensions(model: Model | None) -> bool:
    if model is None:
        return False
    types = {field.name: _without_none(field.type) for field in model.fields}
    return all(types.get(name) == Primitive("int") for name in ("width", "height"))


def _metavar(
    field: Field, kind: Kind, choices: tuple[str | int | float | bool, ...], dimensions: bool
) -> str:
    if kind == "choice":
        listed = "{" + ",".join(str(value) for value in choices) + "}"
        # argparse's usage wrapping breaks on metavars with spaces or brackets.
        if len(listed) <= 40 and not re.search(r"[\s()\[\]]", listed):
            return listed
    if kind == "object" and dimensions:
        return "SIZE"
    if kind == "file":
        return "PATH|URL"
    if kind == "json":
        return "JSON"
    # The type, which --help shows nowhere else.
    return {"int": "INT", "float": "NUMBER", "choice": "CHOICE"}.get(kind, "TEXT")


def _help(
    field: Field,
    kind: Kind,
    repeat: bool,
    choices: tuple[str | int | float | bool, ...],
    dimensions: bool,
    *,
    listed: bool,
) -> str:
    parts = [_sentence(field.description)] if field.description.strip() else []
    if kind == "choice" and not listed:
        parts.append("One of: " + ", ".join(str(value) for value in choices) + ".")
    elif kind == "object":
        forms = ["a preset (" + ", ".join(str(value) for value in choices) + ")"]
        if dimensions:
            forms.append("WIDTHxHEIGHT")
        forms.append("a JSON object")
        parts.append("Accepts " + ", ".join(forms[:-1]) + " or " + forms[-1] + ".")
    elif kind == "file":
        parts.append("A URL, a data URI or a local file.")
    elif kind == "json" and not repeat:
        parts.append("A JSON value, or @FILE holding one.")
    if repeat:
        parts.append(
            "Repeat the option for each item (a JSON object each)"
            if kind == "json"
            else "Repeat the option for each item"
        )
        parts[-1] += ", or pass a JSON array" + (
            " (or @FILE holding one)." if kind == "json" else "."
        )
    if constraints := field.constraints.describe():
        parts.append(f"Constraint: {constraints}.")
    if field.has_default:
        parts.append(f"Default: {_show(field.default)}.")
    return " ".join(parts)


def _sentence(text: str) -> str:
    """``text`` on one line, ending like a sentence so that more sentences can follow."""
    line = " ".join(text.split())
    return line if line.endswith((".", "!", "?", ":")) else line + "."


def _show(value: JSONValue) -> str:
    return value if isinstance(value, str) and value else json.dumps(value, ensure_ascii=False)


# --- examples: the inverse of the CLI's parsing -----------------------------------------------


def argv_for(command: Command, values: Mapping[str, JSONValue]) -> list[str]:
    """Arguments that make ``command`` send ``values`` (keyed by JSON name); None is left out."""
    options = {option.name: option for option in command.options}
    argv = [command.program, command.name]
    for name, value in values.items():
        option = options.get(name)
        if option is None or value is None or value is MISSING:
            continue
        argv += list(_tokens(option, value))
    return argv


def _tokens(option: Option, value: JSONValue) -> Iterator[str]:
    if option.repeat:
        items = value if isinstance(value, list) else [value]
        texts = [_scalar_text(option, item) for item in items]
        if not items or any(text is None for text in texts):
            yield from _pair(option.flag, json.dumps(items, ensure_ascii=False))
            return
        for text in texts:
            yield from _pair(option.flag, str(text))
        return
    if option.kind == "bool" and isinstance(value, bool):
        yield option.flag if value else option.negative_flag
        return
    text = _scalar_text(option, value)
    yield from _pair(
        option.flag, text if text is not None else json.dumps(value, ensure_ascii=False)
    )


def _pair(flag: str, text: str) -> Iterator[str]:
    # argparse would take a value starting with "-" for an option: attach it with "=".
    if text.startswith("-"):
        yield f"{flag}={text}"
    else:
        yield from (flag, text)


def _scalar_text(option: Option, value: JSONValue) -> str | None:
    """How one value is written for ``option``; None when only JSON can say it."""
    if option.kind == "object":
        if isinstance(value, str):
            return value
        if option.dimensions and isinstance(value, dict) and set(value) == {"width", "height"}:
            width, height = value["width"], value["height"]
            if all(
                isinstance(side, int) and not isinstance(side, bool) for side in (width, height)
            ):
                return f"{width}x{height}"
        return None
    if option.kind == "json" or isinstance(value, dict | list | bool):
        return None
    if isinstance(value, str) and option.repeat and value.startswith("["):
        return None  # would read as a JSON array
    return str(value)


def shell_command(argv: list[str], *, width: int = 80) -> str:
    """The arguments as one shell command, an option and its value per continued line."""
    lines = [" ".join(shell_quote(part) for part in argv[:2])]
    index = 2
    while index < len(argv):
        token = argv[index]
        if index + 1 < len(argv) and not argv[index + 1].startswith("-"):
            lines.append(f"{shell_quote(token)} {shell_quote(argv[index + 1])}")
            index += 2
        else:
            lines.append(shell_quote(token))
            index += 1
    if sum(len(line) + 1 for line in lines) <= width:
        return " ".join(lines)
    return " \\\n  ".join(lines)


def shell_quote(text: str) -> str:
    """One shell word; double quotes where single quotes would need ``'"'"'`` dances."""
    quoted = shlex.quote(text)
    if quoted == text or "'" not in text or re.search(r'[$`\\"!]', text):
        return quoted
    return f'"{text}"'
