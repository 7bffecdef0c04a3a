"""The simulated fal queue: requests wait IN_QUEUE, run IN_PROGRESS with logs, end COMPLETED.

Each app has a line ordered by priority (``normal`` before ``low``) and a number of runners; a
request leaves the line after ``queue_delay`` once it is at the head and a runner is free. Every
state change bumps the request's version, which the status stream waits on, so streamed statuses
arrive as soon as they happen rather than on a polling beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .catalog import Endpoint
from .config import ServerConfig
from .model import Model
from .outcomes import CANCELLED, INTERNAL_ERROR, START_TIMED_OUT, Outcome
from .stats import RequestRecord, Stats
from .urls import ServerURLs
from .webhooks import WebhookSender, webhook_body

logger = logging.getLogger("falgen.server")

IN_QUEUE, IN_PROGRESS, COMPLETED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED"
PRIORITIES = ("normal", "low")


@dataclass(frozen=True)
class Submission:
    """What a client submitted, with the options fal takes as headers and query."""

    endpoint: Endpoint
    payload: Any
    urls: ServerURLs
    priority: str = "normal"
    start_timeout: float | None = None
    runner_hint: str | None = None
    webhook_url: str | None = None


class QueuedRequest:
    """One submitted request and everything a status query reports about it."""

    def __init__(self, request_id: str, submission: Submission, record: RequestRecord) -> None:
        self.id = request_id
        self.submission = submission
        self.record = record
        self.status = IN_QUEUE
        self.logs: list[dict[str, str]] = []
        self.outcome: Outcome | None = None
        self.metrics: dict[str, float] = {}
        self.started_at: float | None = None
        self.cancel_requested = asyncio.Event()
        self.released = asyncio.Event()
        self.version = 0
        self._changed = asyncio.Event()

    @property
    def app_id(self) -> str:
        return self.submission.endpoint.app_id

    @property
    def response_url(self) -> str:
        return f"{self.submission.urls.queue}/{self.app_id}/requests/{self.id}"

    def links(self) -> dict[str, str]:
        return {
            "request_id": self.id,
            "response_url": self.response_url,
            "status_url": self.response_url + "/status",
            "cancel_url": self.response_url + "/cancel",
        }

    def touch(self) -> None:
        """Record a change and wake everyone waiting for one."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, seen: int) -> None:
        while self.version == seen:
            await self._changed.wait()

    def log(self, message: str) -> None:
        timestamp = datetime.now(UTC).isoformat()
        self.logs.append(
            {"message": message, "level": "INFO", "source": "USER", "timestamp": timestamp}
        )
        self.touch()


class AppLine:
    """The waiting line and runner count of one app."""

    def __init__(self, runners: int | None) -> None:
        self.runners = runners
        self.waiting: list[QueuedRequest] = []
        self.running = 0
        self._condition = asyncio.Condition()

    def join(self, request: QueuedRequest) -> None:
        if request.submission.priority == "low":
            self.waiting.append(request)
        else:
            first_low = next(
                (i for i, r in enumerate(self.waiting) if r.submission.priority == "low"),
                len(self.waiting),
            )
            self.waiting.insert(first_low, request)
        self._moved(self.waiting[self.waiting.index(request) + 1 :])

    def position(self, request: QueuedRequest) -> int:
        return self.waiting.index(request) if request in self.waiting else 0

    async def take_runner(self, request: QueuedRequest) -> bool:
        """Wait until ``request`` heads the line and a runner is free (True), or it is cancelled."""
        async with self._condition:
            await self._condition.wait_for(
                lambda: (
                    request.cancel_requested.is_set()
                    or (self.waiting[0] is request and self._runner_free())
                )
            )
            if request.cancel_requested.is_set():
                return False
            self.running += 1
            self._leave_line(request)
            return True

    async def leave(self, request: QueuedRequest) -> None:
        """Take a request out of the line without running it (cancelled or timed out)."""
        async with self._condition:
            if request in self.waiting:
                self._leave_line(request)

    async def release_runner(self) -> None:
        async with self._condition:
            self.running -= 1
            self._condition.notify_all()

    async def wake(self) -> None:
        async with self._condition:
            self._condition.notify_all()

    def _runner_free(self) -> bool:
        return self.runners is None or self.running < self.runners

    def _leave_line(self, request: QueuedRequest) -> None:
        index = self.waiting.index(request)
        self.waiting.remove(request)
        self._moved(self.waiting[index:])
        self._condition.notify_all()

    @staticmethod
    def _moved(requests: list[QueuedRequest]) -> None:
        for request in requests:
            request.touch()  # their queue positions changed


class RequestQueue:
    """All queued requests, the simulation tasks that drive them, and their webhooks."""

    def __init__(
        self,
        config: ServerConfig,
        model: Model,
        stats: Stats,
        webhooks: WebhookSender,
        closing: asyncio.Event,
    ) -> None:
        self.config = config
        self.closing = closing
        self.model = model
        self.stats = stats
        self.webhooks = webhooks
        self._requests: dict[str, QueuedRequest] = {}
        self._lines: dict[str, AppLine] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = random.Random(f"{config.seed}/request-ids")

    def submit(self, submission: Submission) -> QueuedRequest:
        request_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        record = RequestRecord(
            endpoint_id=submission.endpoint.endpoint_id,
            submitted_at=time.time(),
            priority=submission.priority,
            start_timeout=submission.start_timeout,
            runner_hint=submission.runner_hint,
            webhook_url=submission.webhook_url,
        )
        request = QueuedRequest(request_id, submission, record)
        self.stats.record_submission(request_id, record, submission.payload)
        self._requests[request_id] = request
        self._line(request.app_id).join(request)
        task = asyncio.create_task(self._lifecycle(request), name=f"falgen-request-{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return request

    def get(self, request_id: str) -> QueuedRequest | None:
        return self._requests.get(request_id)

    def status_body(
        self, request: QueuedRequest, with_logs: bool, logs_from: int = 0
    ) -> dict[str, Any]:
        """The status of ``request``; with ``logs_from``, only the log lines from that index on
        (what a streamed status carries)."""
        body: dict[str, Any] = {"status": request.status, **request.links()}
        if request.status == IN_QUEUE:
            body["queue_position"] = self._line(request.app_id).position(request)
        # Official clients read "logs" unconditionally: present, null when not asked for.
        body["logs"] = request.logs[logs_from:] if with_logs else None
        if request.status == COMPLETED and request.outcome is not None:
            body["metrics"] = dict(request.metrics)
            if request.outcome.error:
                body["error"] = request.outcome.error
                body["error_type"] = request.outcome.error_type
        return body

    def submit_body(self, request: QueuedRequest) -> dict[str, Any]:
        return {
            "status": IN_QUEUE,
            **request.links(),
            "queue_position": self._line(request.app_id).position(request),
        }

    async def statuses(
        self, request: QueuedRequest, with_logs: bool
    ) -> AsyncIterator[dict[str, Any]]:
        """Every status change of ``request``, ending with its COMPLETED status (or early, when
        the server stops). As on fal, each carries only the log lines new since the previous one:
        clients accumulate them."""
        logs_sent = 0
        while True:
            seen = request.version
            body = self.status_body(request, with_logs, logs_sent)
            logs_sent = len(request.logs)
            yield body
            if request.status == COMPLETED or self.closing.is_set():
                return
            await _first_of(request.wait_change(seen), self.closing.wait())

    async def cancel(self, request: QueuedRequest) -> bool:
        """Ask a request to stop; False when it has already completed."""
        if request.status == COMPLETED:
            return False
        request.cancel_requested.set()
        await self._line(request.app_id).wake()
        return True

    def release(self, request: QueuedRequest) -> bool:
        """Let a held request finish; False when it is not held (or was released already)."""
        if not self.config.hold or request.status == COMPLETED or request.released.is_set():
            return False
        request.released.set()
        return True

    async def close(self) -> None:
        """Stop every simulation still running (the server is shutting down)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _line(self, app_id: str) -> AppLine:
        line = self._lines.get(app_id)
        if line is None:
            line = self._lines[app_id] = AppLine(self.config.runners)
        return line

    async def _lifecycle(self, request: QueuedRequest) -> None:
        line = self._line(request.app_id)
        if await self._wait_for_runner(request, line):
            try:
                outcome = await self._process(request)
            except Exception:
                # A bug must not leave the request IN_PROGRESS forever: fail it visibly.
                logger.exception("simulating request %s failed", request.id)
                outcome = INTERNAL_ERROR
            finally:
                await line.release_runner()
            self._finish(request, outcome)
        url = request.submission.webhook_url
        if url and request.outcome is not None:
            body = webhook_body(request.id, request.outcome.status_code, request.outcome.body)
            await self.webhooks.deliver(url, request.id, body)

    async def _wait_for_runner(self, request: QueuedRequest, line: AppLine) -> bool:
        try:
            async with asyncio.timeout(request.submission.start_timeout):
                await _pause(request, self.config.queue_delay)
                started = await line.take_runner(request)
        except TimeoutError:
            await line.leave(request)
            self._finish(request, START_TIMED_OUT)
            return False
        if not started:
            await line.leave(request)
            self._finish(request, CANCELLED)
        return started

    async def _process(self, request: QueuedRequest) -> Outcome:
        request.status = IN_PROGRESS
        request.started_at = request.record.started_at = time.time()
        request.record.status = IN_PROGRESS
        request.touch()
        steps = self.config.progress_steps
        for step in range(1, steps + 1):
            await _pause(request, self.config.step_delay)
            if request.cancel_requested.is_set():
                return CANCELLED
            request.log(f"Step {step}/{steps}")
        if self.config.hold:
            await _first_of(request.released.wait(), request.cancel_requested.wait())
            if request.cancel_requested.is_set():
                return CANCELLED
        inference_time = time.time() - request.started_at
        request.metrics["inference_time"] = inference_time
        cdn_url = request.submission.urls.cdn
        return await self.model.infer(
            request.submission.endpoint, request.submission.payload, cdn_url, inference_time
        )

    def _finish(self, request: QueuedRequest, outcome: Outcome) -> None:
        request.outcome = outcome
        request.status = COMPLETED
        record = request.record
        record.completed_at = time.time()
        record.completed_monotonic = time.monotonic()
        record.status = COMPLETED
        record.status_code = outcome.status_code
        record.error_type = outcome.error_type
        request.touch()


async def _pause(request: QueuedRequest, seconds: float) -> None:
    """Sleep, but wake at once when the request is cancelled."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(request.cancel_requested.wait(), seconds)


async def _first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``waits`` finishes; cancel the others."""
    waiters = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
