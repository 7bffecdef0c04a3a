"""Progress of a request on standard error: queue position, then log lines.

On a terminal, with ``rich`` installed (the ``cli`` extra), a spinner shows the current state;
otherwise (pipes, CI, logs) each change is one plain line.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Self, TextIO

from .._runtime import Completed, InProgress, Log, Queued
from ._spec import printable

if TYPE_CHECKING:
    from rich.status import Status as RichStatus


class Progress:
    """Plain lines; subclasses change how a line and the current state are shown."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._position: int | None = None
        self._running = False
        self._printed: Counter[tuple[str, str, str]] = Counter()

    def submitted(self, request_id: str) -> None:
        self.line(f"submitted request {request_id}")

    def update(self, status: Queued | InProgress | Completed) -> None:
        if isinstance(status, Queued):
            if status.position != self._position:
                self._position = status.position
                self.state(f"in queue, position {status.position}")
            return
        if isinstance(status, InProgress) and not self._running:
            self._running = True
            self.state("running")
        self._logs(status.logs)
        if isinstance(status, Completed):
            self.state("completed" if status.error is None else "failed")

    def _logs(self, logs: list[Log]) -> None:
        # Status replies repeat earlier lines: print each (timestamp, level, message) only as
        # often as it occurs in the longest reply seen.
        seen: Counter[tuple[str, str, str]] = Counter()
        for log in logs:
            key = (log.timestamp, log.level, log.message)
            seen[key] += 1
            if seen[key] > self._printed[key]:
                self._printed[key] = seen[key]
                self.line(f"[{log.level}] {log.message}" if log.level else log.message)

    def state(self, text: str) -> None:
        self.line(text)

    def line(self, text: str) -> None:
        print(printable(text), file=self._stream, flush=True)

    def close(self) -> None:
        """Stop any live display."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SilentProgress(Progress):
    def line(self, text: str) -> None:
        pass


class RichProgress(Progress):
    """A spinner with the current state; log lines scroll above it."""

    def __init__(self, status: RichStatus) -> None:
        super().__init__(sys.stderr)
        self._status = status
        self._status.start()

    def state(self, text: str) -> None:
        self._status.update(printable(text))

    def line(self, text: str) -> None:
        self._status.console.print(printable(text), markup=False, highlight=False)

    def close(self) -> None:
        self._status.stop()


def reporter(*, quiet: bool) -> Progress:
    if quiet:
        return SilentProgress(sys.stderr)
    if sys.stderr.isatty():
        try:
            from rich.console import Console
        except ImportError:
            pass
        else:
            return RichProgress(Console(stderr=True).status("submitting"))
    return Progress(sys.stderr)
