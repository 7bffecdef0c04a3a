"""What a generated command is made of, and how its options become endpoint input.

The per-endpoint modules in ``commands/`` hold :class:`Command` values; this module turns one
into an ``argparse`` parser and parses each value form. Standard library only: ``--help`` of a
command must not pay for the HTTP client or the models (the tables are named tuples, as
``dataclasses`` costs more to import).
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections.abc import Mapping
from functools import partial
from typing import Any, Literal, NamedTuple

from .commands import PROG

Kind = Literal["str", "int", "float", "bool", "choice", "file", "object", "json"]
INPUT_PREFIX = "input:"  # argparse destinations of input fields, apart from the command's own
_SIZE = re.compile(r"(\d+)[xX](\d+)")


class Option(NamedTuple):
    """One input field as an option. ``kind`` says how a value is parsed (of each item, for
    a list); a list option (``repeat``) is repeated once per item or given a JSON array.
    """

    name: str  # the JSON property name
    param: str  # the keyword argument of the client methods
    flag: str
    kind: Kind
    help: str = ""
    metavar: str = "VALUE"
    repeat: bool = False
    required: bool = False
    choices: tuple[str | int | float | bool, ...] = ()
    dimensions: bool = False  # an ``object`` that also accepts WIDTHxHEIGHT

    @property
    def dest(self) -> str:
        return INPUT_PREFIX + self.name


class Command(NamedTuple):
    name: str
    endpoint_id: str
    attribute: str  # the endpoint's attribute on the client
    description: str
    example: str
    options: tuple[Option, ...]

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)


class _Formatter(argparse.HelpFormatter):
    """Wraps each paragraph on its own and keeps indented blocks (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.split("\n\n"):
            if block.startswith(" "):
                blocks.append(textwrap.indent(block, indent))
            else:
                blocks.append(
                    textwrap.fill(
                        " ".join(block.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_long_words=False,
                        break_on_hyphens=False,
                    )
                )
        return "\n\n".join(blocks)


def parser_for(command: Command) -> argparse.ArgumentParser:
    """The parser of an endpoint command: its input fields, then the command's own options."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} {command.name}",
        description=escape_help(command.description),
        epilog=escape_help(command.example)
        and f"Example:\n\n{textwrap.indent(escape_help(command.example), '  ')}",
        formatter_class=_Formatter,
    )
    fields = parser.add_argument_group(
        "input fields",
        f"Each option sets one field of the input of {command.endpoint_id}; unset fields take "
        "the endpoint's defaults. Options override fields read with --input.",
    )
    for option in command.options:
        text = escape_help(option.help + (" (required)" if option.required else ""))
        if option.kind == "bool" and not option.repeat:
            fields.add_argument(
                option.flag,
                dest=option.dest,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=text,
            )
        else:
            fields.add_argument(
                option.flag,
                dest=option.dest,
                type=partial(parse_value, option),
                action="extend" if option.repeat else "store",
                metavar=option.metavar,
                default=argparse.SUPPRESS,
                help=text,
            )
    parser.add_argument(
        "--input",
        metavar="FILE",
        help="read the input from a JSON file ('-' for standard input); options override it",
    )
    parser.add_argument("--json", action="store_true", help="print the raw JSON result")
    add_output_options(parser)
    parser.add_argument(
        "--no-wait", action="store_true", help="submit, print the request id and exit"
    )
    parser.add_argument(
        "--webhook-url", metavar="URL", help="fal POSTs the result to URL when done"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    return parser


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="download the files of the result into DIR (created if needed), named "
        "<request id>-<field><ext>",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace files that exist in --output-dir"
    )


def output_folder(parser: argparse.ArgumentParser, text: str) -> str:
    """``--output-dir``, checked (and created) before anything is submitted: a run is paid for,
    its files must have a place to go."""
    import os
    from pathlib import Path

    path = Path(text).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        parser.error(f"argument --output-dir: {text} exists and is not a folder")
    except OSError as problem:
        parser.error(f"argument --output-dir: cannot create {text}: {problem.strerror}")
    if not os.access(path, os.W_OK | os.X_OK):
        parser.error(f"argument --output-dir: {text} is not writable")
    return str(path)


def escape_help(text: str) -> str:
    """Help text from a spec made printable; argparse %-formats help strings."""
    return printable(text).replace("%", "%%")


# What text from a spec or a server must not bring to a terminal: C0 controls but newline and
# tab (escape sequences, carriage returns that overwrite lines), DEL, C1 controls (8-bit CSI)
# and the bidi overrides that reorder what is shown.
_CONTROLS = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print: control characters shown as escapes (``\\\\x1b``)."""
    return _CONTROLS.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def parse_value(option: Option, text: str) -> Any:
    """One command-line value of ``option``; for a list, the list of items it adds. JSON values
    (``json`` kinds) may be read from a file: ``@FILE``."""
    if option.kind == "json" and text.startswith("@"):
        text = _read(text[1:])
    if option.repeat:
        if text.lstrip().startswith("["):
            items = _json(text)
            if not isinstance(items, list):
                raise argparse.ArgumentTypeError(f"expected a JSON array, got {text!r}")
            return items
        return [_scalar(option, text)]
    return _scalar(option, text)


def _scalar(option: Option, text: str) -> Any:
    kind = option.kind
    if kind in ("str", "file"):
        return text
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if kind == "choice":
        for choice in option.choices:
            if str(choice) == text:
                return choice
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(map(str, option.choices))})"
        )
    if kind == "object":
        if text in option.choices:
            return text
        size = _SIZE.fullmatch(text) if option.dimensions else None
        if size:
            return {"width": int(size.group(1)), "height": int(size.group(2))}
        if text.lstrip().startswith("{"):
            value = _json(text)
            if isinstance(value, dict):
                return value
        forms = [f"a preset ({', '.join(map(str, option.choices))})"]
        forms += ["WIDTHxHEIGHT"] if option.dimensions else []
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(forms)} or a JSON object, got {text!r}"
        )
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return _json(text)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as problem:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {problem.strerror}") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(f"invalid JSON ({problem}): {text!r}") from None


def collect(
    parser: argparse.ArgumentParser,
    command: Command,
    namespace: argparse.Namespace,
    base: Mapping[str, Any],
) -> dict[str, Any]:
    """The input: fields of ``base`` (from ``--input``), overridden by the options given."""
    unknown = sorted(set(base) - {option.name for option in command.options})
    if unknown:
        parser.error(f"argument --input: unknown field(s) {', '.join(map(repr, unknown))}")
    given = vars(namespace)
    values = dict(base)
    for option in command.options:
        if option.dest in given:
            values[option.name] = given[option.dest]
    missing = [
        option.flag for option in command.options if option.required and option.name not in values
    ]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)}")
    return values
