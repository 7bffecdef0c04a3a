"""Settings of the local fal-compatible server.

The defaults make a fast, fault-free server for tests; every knob that shapes timing or failures
lives here so a test (or ``falgen serve``) states its whole scenario in one value.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal, get_args

# Names of the API routes, used to aim fault injection and to label counters in the stats.
Route = Literal[
    "submit",
    "status",
    "status_stream",
    "result",
    "cancel",
    "run",
    "run_stream",
    "realtime_token",
    "storage_token",
    "upload_initiate",
    "upload",
    "files",
    "models",
]
ROUTES: tuple[Route, ...] = get_args(Route)
# The fal hosts the local server stands in for (see urls.py), one path prefix each: api is the
# Platform API (api.fal.ai, the model catalogue).
Host = Literal["queue", "run", "rest", "api", "realtime", "cdn"]
HOSTS: tuple[Host, ...] = get_args(Host)
# File downloads stand for fal's CDN, which is not the API under test: no faults there by default.
DEFAULT_FAULT_ROUTES: frozenset[Route] = frozenset(route for route in ROUTES if route != "files")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


def _check_non_negative(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class Faults:
    """Failures injected into API requests, drawn per request from a generator seeded by
    :attr:`ServerConfig.seed` and the route name, so a sequence of requests to a route meets the
    same faults on every run.

    Each request to a route in :attr:`routes` draws once: with ``error_rate`` it answers
    ``error_status``; with ``rate_limit_rate`` it answers 429 with ``Retry-After``; with
    ``drop_rate`` the connection is closed without a complete response; independently, with
    ``slow_rate`` it is delayed by ``slow_delay`` seconds first. ``failure_rate`` makes a queued or
    direct run fail inside the simulated model (HTTP 500 at the result). After ``limit`` injected
    faults (of any kind) the server behaves.
    """

    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    drop_rate: float = 0.0
    # Dropping after the handler ran loses the response of a request that took effect (a submit
    # that queued a request), the case that tempts clients into duplicate submissions.
    drop_after_processing: bool = True
    slow_rate: float = 0.0
    slow_delay: float = 1.0
    failure_rate: float = 0.0
    routes: frozenset[Route] = DEFAULT_FAULT_ROUTES
    limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "rate_limit_rate", "drop_rate", "slow_rate", "failure_rate"):
            _check_rate(name, getattr(self, name))
        if self.error_rate + self.rate_limit_rate + self.drop_rate > 1.0:
            raise ValueError("error_rate + rate_limit_rate + drop_rate must not exceed 1")
        if not 500 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 5xx status, got {self.error_status}")
        _check_non_negative("retry_after", self.retry_after)
        _check_non_negative("slow_delay", self.slow_delay)
        unknown = set(self.routes) - set(ROUTES)
        if unknown:
            raise ValueError(f"unknown fault routes: {sorted(unknown)}; known: {list(ROUTES)}")
        if self.limit is not None:
            _check_non_negative("limit", self.limit)

    @property
    def active(self) -> bool:
        return any((self.error_rate, self.rate_limit_rate, self.drop_rate, self.slow_rate))


@dataclass(frozen=True)
class ServerConfig:
    """How the local server behaves.

    ``accepted_keys``: API keys accepted in ``Authorization: Key <key>``; ``None`` accepts any
    non-empty key. A queued request waits ``queue_delay`` seconds IN_QUEUE (longer when
    ``runners`` limits how many requests of one app run at once), then spends ``progress_steps``
    steps of ``step_delay`` seconds IN_PROGRESS, one log line per step. With ``hold`` it then stays
    IN_PROGRESS until ``POST /_admin/release/<request id>``. ``public_url`` is the base URL written
    into returned links (default: the URL the client used). Webhooks may only target loopback
    addresses unless ``allow_remote_webhooks``.

    Limits: JSON bodies up to ``max_request_bytes`` (uploads up to ``max_upload_bytes``), nested
    at most ``MAX_BODY_DEPTH`` levels (context.py). Requests must name the server in their Host
    header: a loopback name or address, the host of ``public_url``, or one of ``allowed_hosts``
    (a web page whose domain an attacker re-pointed at 127.0.0.1, "DNS rebinding", sends its own
    name). ``/_admin`` answers only loopback callers sending ``Authorization: Bearer
    <admin_token>`` (random per configuration unless given).

    ``root_host`` also serves one host's API at the root path, without its prefix, the way fal's
    own hosts are laid out (``https://queue.fal.run/<endpoint id>``): for clients that are given a
    host name rather than a base URL, such as fal-client with ``FAL_QUEUE_RUN_HOST``. The links
    the server returns keep the prefix, and every prefixed path still works.
    """

    accepted_keys: frozenset[str] | None = None
    queue_delay: float = 0.01
    progress_steps: int = 2
    step_delay: float = 0.01
    runners: int | None = None
    hold: bool = False
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    public_url: str | None = None
    webhook_user_id: str = "falgen-local-user"
    allow_remote_webhooks: bool = False
    realtime_token_max_ttl: int = 3600
    storage_token_ttl: int = 3600
    max_upload_bytes: int = 256 * 1024 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    root_host: Host | None = None
    allowed_hosts: frozenset[str] = frozenset()
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    def __post_init__(self) -> None:
        if self.accepted_keys is not None and not all(self.accepted_keys):
            raise ValueError("accepted_keys must not contain an empty key")
        _check_non_negative("queue_delay", self.queue_delay)
        _check_non_negative("step_delay", self.step_delay)
        _check_non_negative("progress_steps", self.progress_steps)
        if self.runners is not None and self.runners < 1:
            raise ValueError(f"runners must be at least 1, got {self.runners}")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"public_url must be an http(s) URL, got {self.public_url!r}")
        positive = ("realtime_token_max_ttl", "storage_token_ttl")
        for name in (*positive, "max_upload_bytes", "max_request_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if len(self.admin_token) < 16:
            raise ValueError("admin_token must have at least 16 characters")
        if self.root_host is not None and self.root_host not in HOSTS:
            raise ValueError(f"root_host must be one of {list(HOSTS)}, got {self.root_host!r}")
