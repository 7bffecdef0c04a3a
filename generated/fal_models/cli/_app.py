"""Dispatch of ``fal-models``: read the command name, load only that command's table.

The client, its HTTP stack and the endpoint models are imported once a request is actually
made (in ``_run``), so ``fal-models <command> --help`` and usage errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from .._version import __version__
from . import _spec
from .commands import COMMANDS, PROG

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")  # a scheme (http:, data:), not a drive letter
QUEUE_COMMANDS = {
    "status": "show the status of a request",
    "result": "wait for a request to complete and print its result",
    "cancel": "cancel a queued request",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API error, 2 usage, 130 Ctrl-C,
    141 when the reader of the output went away, as for shell tools killed by SIGPIPE).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            return _endpoint_command(args[0], args[1:])
        if args and args[0] in QUEUE_COMMANDS:
            return _queue_command(args[0], args[1:])
        parser = _MainParser()
        namespace = parser.parse_args(args)  # prints help or the version, or a usage error
        if namespace.command is not None:
            parser.error(
                f"argument COMMAND: invalid choice: {namespace.command!r} "
                f"('{PROG} --help' lists the commands)"
            )
        parser.print_usage(sys.stderr)
        return 2
    except SystemExit as done:  # argparse exits on --help and on usage errors
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # ``... | head``: stop quietly; flushing stdout at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


class _MainParser(argparse.ArgumentParser):
    """The top level: its help lists every command, formatted here rather than by a subparser
    per command (with a thousand endpoints, those would cost far more than the rest)."""

    def __init__(self) -> None:
        super().__init__(
            prog=PROG,
            usage=f"{PROG} [-h] [--version] COMMAND ...",
            description=(
                "Run fal.ai model endpoints from the command line. Configure with FAL_KEY "
                "(and FAL_QUEUE_URL, FAL_RUN_URL, FAL_REST_URL to use other hosts)."
            ),
        )
        self.add_argument("--version", action="version", version=f"{PROG} {__version__}")
        self.add_argument("command", nargs="?", metavar="COMMAND", help="one of the commands below")

    def format_help(self) -> str:
        width = max(40, shutil.get_terminal_size().columns - 2)
        lines = ["", "commands:"]
        lines += _listed(COMMANDS_HELP, width)
        lines += ["", "queued requests:"]
        lines += _listed(QUEUE_COMMANDS.items(), width)
        lines += ["", f"'{PROG} COMMAND --help' lists the options of a command.", ""]
        return super().format_help() + "\n".join(lines)


COMMANDS_HELP = ((name, text or endpoint_id) for name, (_, endpoint_id, text) in COMMANDS.items())
NAME_COLUMN = 24  # the width of the command names; longer ones have their text on the next line


def _listed(entries: Iterable[tuple[str, str]], width: int) -> list[str]:
    """``  name    text`` lines, the text wrapped in its column (spec text made printable)."""
    indent = " " * (NAME_COLUMN + 4)
    lines = []
    for name, text in entries:
        text = _spec.printable(text)
        head = f"  {name}".ljust(len(indent))
        if len(name) > NAME_COLUMN:
            lines.append(head.rstrip())
            head = indent
        if len(head) + len(text) <= width:
            lines.append(head + text)
        else:
            wrapped = textwrap.wrap(text, width - len(indent), break_on_hyphens=False) or [""]
            lines += [head + wrapped[0], *(indent + line for line in wrapped[1:])]
    return lines


def load_command(name: str) -> _spec.Command:
    """The table of one endpoint command."""
    module = importlib.import_module(f"{__package__}.commands.{COMMANDS[name][0]}")
    command: _spec.Command = module.COMMAND
    return command


def _endpoint_command(name: str, args: list[str]) -> int:
    command = load_command(name)
    parser = _spec.parser_for(command)
    namespace = parser.parse_args(args)
    if namespace.output_dir:
        namespace.output_dir = _spec.output_folder(parser, namespace.output_dir)
    base = _read_input(parser, namespace.input) if namespace.input else {}
    values = _spec.collect(parser, command, namespace, base)
    values = _local_files(parser, command, values)
    from ._run import run_endpoint

    return run_endpoint(parser, command, values, namespace)


def _read_input(parser: argparse.ArgumentParser, source: str) -> dict[str, Any]:
    from pathlib import Path

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as problem:
        parser.error(f"argument --input: cannot read {source}: {problem.strerror}")
    except ValueError as problem:
        parser.error(f"argument --input: {source} is not valid JSON: {problem}")
    if not isinstance(data, dict):
        parser.error(f"argument --input: {source} must hold a JSON object")
    return data


def _local_files(
    parser: argparse.ArgumentParser, command: _spec.Command, values: dict[str, Any]
) -> dict[str, Any]:
    """File fields: a value without a URL scheme names a local file, which the client sends."""
    from pathlib import Path

    def resolve(option: _spec.Option, value: Any) -> Any:
        if not isinstance(value, str) or _URL.match(value):
            return value
        path = Path(value).expanduser()
        if not path.is_file():
            parser.error(f"argument {option.flag}: no such file: {value}")
        return path

    result = dict(values)
    for option in command.options:
        if option.kind == "file" and option.name in result:
            value = result[option.name]
            result[option.name] = (
                [resolve(option, item) for item in value]
                if isinstance(value, list)
                else resolve(option, value)
            )
    return result


def _queue_command(name: str, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} {name}", description=QUEUE_COMMANDS[name])
    parser.add_argument(
        "endpoint",
        metavar="ENDPOINT",
        type=_endpoint_name,
        help="the endpoint: its command name or its endpoint id",
    )
    parser.add_argument("request_id", metavar="REQUEST_ID", help="the id printed by --no-wait")
    if name in ("status", "result"):
        parser.add_argument("--json", action="store_true", help="print raw JSON")
    if name == "status":
        parser.add_argument("--logs", action="store_true", help="include the log lines")
    if name == "result":
        _spec.add_output_options(parser)
    namespace = parser.parse_args(args)
    if getattr(namespace, "output_dir", None):
        namespace.output_dir = _spec.output_folder(parser, namespace.output_dir)
    from ._run import run_queue_command

    return run_queue_command(name, load_command(namespace.endpoint), namespace)


def _endpoint_name(text: str) -> str:
    if text in COMMANDS:
        return text
    for name, (_, endpoint_id, _) in COMMANDS.items():
        if endpoint_id == text:
            return name
    raise argparse.ArgumentTypeError(
        f"unknown endpoint {text!r} ('{PROG} --help' lists the commands)"
    )
