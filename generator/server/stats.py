"""Counters and timelines that tests read through ``GET /_admin/stats``.

They answer the questions an end-to-end client test asks: how often did the client hit each route,
did a retry submit the same input twice (and if so, could the client have known that the first
attempt never took effect), which faults did it meet, when did the server finish a request (to
measure the client's latency), and which webhooks were delivered.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# What became of one submission attempt, as the server saw it. The first two took effect (a request
# was queued); the others provably did not, which is what makes sending the input again safe.
SubmitOutcome = Literal[
    "queued",  # queued, and the reply was sent
    "queued_reply_dropped",  # queued, then the connection was dropped: the client lost the reply
    "dropped_unprocessed",  # the connection was dropped before the submission was looked at
    "rate_limited",  # refused with 429 before it was looked at
    "server_error",  # refused with an injected 5xx before it was looked at
]
QUEUED_OUTCOMES: frozenset[SubmitOutcome] = frozenset({"queued", "queued_reply_dropped"})


def input_digest(payload: Any) -> str:
    """SHA-256 of the canonical JSON of an input: equal inputs, equal digests. Raw bytes (which
    msgpack inputs may carry) count by their content."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_bytes_as_hex
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _bytes_as_hex(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": value.hex()}
    raise TypeError(f"{type(value).__name__} is not JSON data")


@dataclass
class RequestRecord:
    """A queued request's life, in Unix seconds, with the options the client sent.

    ``completed_monotonic`` is ``time.monotonic()`` when the request was marked COMPLETED: the
    clock is system-wide on the supported platforms, so a client on the same machine (in this
    process or another) can subtract it from its own ``time.monotonic()`` to measure how long
    the result took to reach it.
    """

    endpoint_id: str
    input_digest: str = ""
    submitted_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    completed_monotonic: float | None = None
    status: str = "IN_QUEUE"
    status_code: int | None = None
    error_type: str | None = None
    priority: str = "normal"
    start_timeout: float | None = None
    runner_hint: str | None = None
    webhook_url: str | None = None


@dataclass
class WebhookRecord:
    request_id: str
    url: str
    attempts: int = 0
    status_code: int | None = None
    delivered_at: float | None = None
    error: str | None = None


@dataclass
class Stats:
    routes: Counter[str] = field(default_factory=Counter)
    submissions: Counter[str] = field(default_factory=Counter)
    submissions_by_input: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    runs: Counter[str] = field(default_factory=Counter)
    realtime_messages: Counter[str] = field(default_factory=Counter)
    uploads: int = 0
    # endpoint id -> input digest -> every submission attempt of that input, in order of arrival
    # (attempts refused by the key check or the input validation are not recorded)
    submit_attempts: defaultdict[str, defaultdict[str, list[dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    requests: dict[str, RequestRecord] = field(default_factory=dict)
    webhooks: list[WebhookRecord] = field(default_factory=list)

    def reset(self) -> None:
        """Forget everything so far; requests still running are no longer recorded."""
        for counter in (self.routes, self.submissions, self.runs, self.realtime_messages):
            counter.clear()
        self.submissions_by_input.clear()
        self.submit_attempts.clear()
        self.uploads = 0
        self.requests.clear()
        self.webhooks.clear()

    def record_submission(self, request_id: str, record: RequestRecord, payload: Any) -> None:
        digest = record.input_digest = input_digest(payload)
        self.submissions[record.endpoint_id] += 1
        self.submissions_by_input[record.endpoint_id][digest] += 1
        self.submit_attempts[record.endpoint_id][digest].append(
            {"outcome": "queued", "request_id": request_id}
        )
        self.requests[request_id] = record

    def record_unprocessed_submission(
        self, endpoint_id: str, payload: Any, outcome: SubmitOutcome
    ) -> None:
        """A submission attempt that a fault stopped before it could queue anything."""
        if outcome in QUEUED_OUTCOMES:
            raise ValueError(f"{outcome!r} is the outcome of a queued submission")
        self.submit_attempts[endpoint_id][input_digest(payload)].append({"outcome": outcome})

    def record_reply_dropped(self, request_id: str) -> None:
        """The reply to the submission that queued ``request_id`` never reached the client."""
        record = self.requests.get(request_id)
        if record is None:  # forgotten by a reset in between
            return
        for attempt in self.submit_attempts[record.endpoint_id][record.input_digest]:
            if attempt.get("request_id") == request_id:
                attempt["outcome"] = "queued_reply_dropped"

    def snapshot(self, faults: Counter[str]) -> dict[str, Any]:
        return {
            "routes": dict(self.routes),
            "submissions": dict(self.submissions),
            "submissions_by_input": {
                endpoint: dict(counts) for endpoint, counts in self.submissions_by_input.items()
            },
            "submit_attempts": {
                endpoint: {digest: [dict(a) for a in attempts] for digest, attempts in by.items()}
                for endpoint, by in self.submit_attempts.items()
            },
            "runs": dict(self.runs),
            "realtime_messages": dict(self.realtime_messages),
            "uploads": self.uploads,
            "faults": dict(faults),
            "requests": {
                request_id: asdict(record) for request_id, record in self.requests.items()
            },
            "webhooks": [asdict(record) for record in self.webhooks],
        }
