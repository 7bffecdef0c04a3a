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
import sys
from collections.abc import Sequence
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
        _main_parser().parse_args(args)  # prints help or the version, or a usage error
        _main_parser().print_usage(sys.stderr)
        return 2
    except SystemExit as done:  # argparse exits on --help and on usage errors
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # ``... | head``: stop quietly; flushing stdout at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Run fal.ai model endpoints from the command line. Configure with FAL_KEY "
            "(and FAL_QUEUE_URL, FAL_RUN_URL, FAL_REST_URL to use other hosts)."
        ),
        epilog=f"'{PROG} COMMAND --help' lists the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, (_, endpoint_id, summary) in COMMANDS.items():
        text = f"{endpoint_id}: {summary}" if summary else endpoint_id
        commands.add_parser(name, help=_spec.escape_help(text))
    for name, text in QUEUE_COMMANDS.items():
        commands.add_parser(name, help=text)
    return parser


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
