"""Counters and timelines that tests read through ``GET /_admin/stats``.

They answer the questions an end-to-end client test asks: how often did the client hit each route,
did a retry submit the same input twice, which faults did it meet, when did the server finish a
request (to measure the client's latency), and which webhooks were delivered.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any


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
    """A queued request's life, in Unix seconds, with the options the client sent."""

    endpoint_id: str
    submitted_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
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
    requests: dict[str, RequestRecord] = field(default_factory=dict)
    webhooks: list[WebhookRecord] = field(default_factory=list)

    def reset(self) -> None:
        """Forget everything so far; requests still running are no longer recorded."""
        for counter in (self.routes, self.submissions, self.runs, self.realtime_messages):
            counter.clear()
        self.submissions_by_input.clear()
        self.uploads = 0
        self.requests.clear()
        self.webhooks.clear()

    def record_submission(self, request_id: str, record: RequestRecord, payload: Any) -> None:
        self.submissions[record.endpoint_id] += 1
        self.submissions_by_input[record.endpoint_id][input_digest(payload)] += 1
        self.requests[request_id] = record

    def snapshot(self, faults: Counter[str]) -> dict[str, Any]:
        return {
            "routes": dict(self.routes),
            "submissions": dict(self.submissions),
            "submissions_by_input": {
                endpoint: dict(counts) for endpoint, counts in self.submissions_by_input.items()
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
