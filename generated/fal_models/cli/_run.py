"""Requests made by the command line: submit, follow, print or save; errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Protocol

import pydantic

from .._client import FalClient
from .._runtime import SyncRequestHandle, _errors
from . import _output, _progress, _spec
from .commands import PROG


class _Endpoint(Protocol):
    def submit(self, **arguments: Any) -> SyncRequestHandle[Any]: ...

    def handle(self, request_id: str) -> SyncRequestHandle[Any]: ...


def run_endpoint(
    parser: argparse.ArgumentParser,
    command: _spec.Command,
    values: dict[str, Any],
    namespace: argparse.Namespace,
) -> int:
    """Submit the input, then wait (showing progress) and show the result."""
    params = {}
    for name, value in values.items():
        option = command.option(name)
        assert option is not None  # collect() rejected unknown fields
        params[option.param] = value
    if namespace.webhook_url:
        params["webhook_url"] = namespace.webhook_url
    handle: SyncRequestHandle[Any] | None = None
    # The client stays open until a request interrupted by Ctrl-C has been cancelled.
    with FalClient() as client:
        try:
            endpoint: _Endpoint = getattr(client, command.attribute)
            handle = endpoint.submit(**params)
            if namespace.no_wait:
                print(_spec.printable(handle.request_id))
                return 0
            with _progress.reporter(quiet=namespace.quiet) as progress:
                progress.submitted(handle.request_id)
                result = handle.result(on_queue_update=progress.update, with_logs=True)
            return _show(client, result, namespace, handle.request_id)
        except KeyboardInterrupt:
            if handle is not None:
                _cancel(handle)
            return 130
        except BrokenPipeError:
            raise  # the reader of stdout went away: not an API failure (see main())
        except (_errors.FalError, OSError) as problem:
            request_id = handle.request_id if handle else None
            return _fail(parser.prog, command, problem, request_id)


def run_queue_command(name: str, command: _spec.Command, namespace: argparse.Namespace) -> int:
    """``status``, ``result`` or ``cancel`` of a request submitted earlier."""
    prog = f"{PROG} {name}"
    try:
        with FalClient() as client:
            endpoint: _Endpoint = getattr(client, command.attribute)
            handle = endpoint.handle(namespace.request_id)
            if name == "status":
                status = handle.status(logs=namespace.logs)
                if namespace.json:
                    print(_output.json_text(status.model_dump(mode="json")))
                else:
                    print(_spec.printable("\n".join(_output.status_lines(status))))
            elif name == "result":
                return _show(client, handle.result(), namespace, handle.request_id)
            else:
                handle.cancel()
                print(_spec.printable(f"cancellation requested for {handle.request_id}"))
            return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # the reader of stdout went away: not an API failure (see main())
    except (_errors.FalError, OSError) as problem:
        return _fail(prog, command, problem, namespace.request_id)


def _show(
    client: FalClient,
    result: pydantic.BaseModel,
    namespace: argparse.Namespace,
    request_id: str,
) -> int:
    """Print the result (and save its files); the exit status."""
    saved = (
        _output.save_files(
            result, Path(namespace.output_dir), request_id, client, overwrite=namespace.overwrite
        )
        if namespace.output_dir
        else {}
    )
    data = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if namespace.json:
        print(_output.json_text(data))
        for path in saved.values():
            print(f"saved {path}", file=sys.stderr)
    elif isinstance(data, dict):
        print(_spec.printable("\n".join(_output.summary(data, saved))))
    else:
        print(_output.json_text(data))  # an output that is not an object
    return 0


def _cancel(handle: SyncRequestHandle[Any]) -> None:
    try:
        handle.cancel()
    except _errors.FalError as problem:
        text = f"{PROG}: could not cancel request {handle.request_id}: {problem}"
        print(_spec.printable(text), file=sys.stderr)
    else:
        print(_spec.printable(f"{PROG}: cancelled request {handle.request_id}"), file=sys.stderr)


def _fail(prog: str, command: _spec.Command, problem: Exception, request_id: str | None) -> int:
    """Print the error (server text made printable); 2 for invalid input or configuration, 1
    for anything the API said or a file that could not be written."""
    if isinstance(problem, _errors.ValidationError):
        for error in problem.errors:
            _error(f"{prog}: error: {_where(command, error.loc)}: {error.message}")
        if problem.request_id:
            _error(f"{prog}: rejected by the API (request {problem.request_id})")
        return 2
    if isinstance(problem, _errors.MissingCredentialsError):
        _error(f"{prog}: error: {problem}")
        return 2
    if isinstance(problem, FileExistsError):
        message = f"{problem.filename} exists (pass --overwrite to replace it)"
    elif isinstance(problem, OSError) and problem.strerror:
        message = f"cannot write {problem.filename}: {problem.strerror}"
    else:
        message = str(problem)
    if request_id and f"request {request_id}" not in message:
        message += f" (request {request_id})"
    _error(f"{prog}: error: {message}")
    return 1


def _error(text: str) -> None:
    print(_spec.printable(text), file=sys.stderr)


def _where(command: _spec.Command, loc: tuple[str | int, ...]) -> str:
    """The option an input error is about, e.g. ``argument --image-size (width)``."""
    option = command.option(str(loc[0])) if loc else None
    if option is None:
        return "input" + (f" field {'.'.join(map(str, loc))}" if loc else "")
    inner = ".".join(map(str, loc[1:]))
    return f"argument {option.flag}" + (f" ({inner})" if inner else "")
