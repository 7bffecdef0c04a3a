"""Worker processes beside ``falgen generate``, started before it knows what they will do.

A generation's two long steps can share the cores: preparing the specs that are not in the
local cache (validating and shaping them, see ``generator.builder``), and making the models
with datamodel-code-generator (see ``generator.models``). The workers are started at once,
while the caller's memory is small (forked from it, they do not carry its IR), and each imports
datamodel-code-generator (a third of a second) while the caller reads the specs: a generation
that changes one endpoint gets its models from a worker that is ready.
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

# A package with fewer endpoints is made as quickly in one process.
PARALLEL_ENDPOINTS = 64
# What datamodel-code-generator imports on its first call.
_WARM = (
    "datamodel_code_generator",
    "datamodel_code_generator.config",
    "datamodel_code_generator.parser.jsonschema",
    "datamodel_code_generator.model.pydantic_v2",
)

Result = TypeVar("Result")


class Workers:
    """One worker per core but the caller's, which takes its turn in :meth:`map`. A context
    manager: leaving it waits for the workers (their CPU time is the caller's)."""

    def __init__(self, count: int | None = None) -> None:
        self.count = max((os.cpu_count() or 1) - 1, 0) if count is None else count
        self._pool: ProcessPoolExecutor | None = None
        if self.count:
            self._pool = ProcessPoolExecutor(max_workers=self.count, initializer=_start)
            self._pool.submit(int)  # starts them: each imports the library first

    @classmethod
    def for_endpoints(cls, count: int) -> Workers:
        """Workers for a package of about ``count`` endpoints: none for a small one."""
        return cls(None if count >= PARALLEL_ENDPOINTS else 0)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the workers (waiting for them) and free their memory; later work is done here."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool, self.count = None, 0

    def call(self, function: Callable[..., Result], *args: Any) -> Result:
        """``function(*args)`` in a worker."""
        assert self._pool is not None, "no workers"
        return self._pool.submit(function, *args).result()

    def map(self, function: Callable[[Any], Result], jobs: Sequence[Any]) -> list[Result]:
        """``function`` of each job, in order: the workers and this process take turns."""
        if self._pool is None:
            return [function(job) for job in jobs]
        turn = self.count + 1  # every turn-th job is made here, the others in the workers
        futures = {
            index: self._pool.submit(function, job)
            for index, job in enumerate(jobs)
            if index % turn != self.count
        }
        here = {index: function(jobs[index]) for index in range(self.count, len(jobs), turn)}
        return [futures[i].result() if i in futures else here[i] for i in range(len(jobs))]


def _start() -> None:
    # Ctrl-C is the caller's to handle: it stops the workers (and prints no traceback).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in _WARM:
        importlib.import_module(module)
