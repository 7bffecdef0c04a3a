"""Client configuration: credentials, hosts and network behaviour, from arguments or env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import MissingCredentialsError

DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_RUN_URL = "https://fal.run"
DEFAULT_REST_URL = "https://rest.fal.ai"
DEFAULT_REALTIME_URL = "wss://fal.run"


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to reach fal. The key never appears in ``repr``."""

    key: str | None = field(default=None, repr=False)
    queue_url: str = DEFAULT_QUEUE_URL
    run_url: str = DEFAULT_RUN_URL
    rest_url: str = DEFAULT_REST_URL
    realtime_url: str = DEFAULT_REALTIME_URL
    timeout: float = 120.0  # seconds per HTTP request
    max_retries: int = 10
    poll_interval: float = 0.1  # first delay between status polls when streaming is unavailable
    stream_status: bool = True  # follow the status over Server-Sent Events (else poll)
    upload_threshold: int = 1024 * 1024  # bytes: smaller local files are sent as data: URIs
    multipart_threshold: int = 100 * 1024 * 1024  # bytes: larger uploads go in parts
    multipart_chunk_size: int = 10 * 1024 * 1024
    # Replies are read whole (JSON, also outputs with inline data: files) up to this size;
    # downloads of output files stream to disk up to theirs.
    max_response_bytes: int = 256 * 1024 * 1024
    max_download_bytes: int = 8 * 1024 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """Explicit arguments win over environment variables, which win over defaults.

        Keys: ``FAL_KEY``, or ``FAL_KEY_ID`` and ``FAL_KEY_SECRET`` joined as ``id:secret``.
        Hosts: ``FAL_QUEUE_URL``, ``FAL_RUN_URL``, ``FAL_REST_URL``, ``FAL_REALTIME_URL`` (full
        URLs), or the official client's ``FAL_QUEUE_RUN_HOST`` / ``FAL_RUN_HOST`` (host names).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "key": _key_from_env(env),
            "queue_url": env.get("FAL_QUEUE_URL") or _host_url(env.get("FAL_QUEUE_RUN_HOST")),
            "run_url": env.get("FAL_RUN_URL") or _host_url(env.get("FAL_RUN_HOST")),
            "rest_url": env.get("FAL_REST_URL"),
            "realtime_url": env.get("FAL_REALTIME_URL"),
        }
        values |= {name: value for name, value in overrides.items() if value is not None}
        config = cls(**{name: value for name, value in values.items() if value is not None})
        return config.normalised()

    def normalised(self) -> ClientConfig:
        sizes = (self.multipart_chunk_size, self.max_response_bytes, self.max_download_bytes)
        if self.timeout <= 0 or self.max_retries < 0 or min(sizes) <= 0:
            raise ValueError(
                "timeout, multipart_chunk_size and the size limits must be positive, "
                "max_retries >= 0"
            )
        return replace(
            self,
            queue_url=self.queue_url.rstrip("/"),
            run_url=self.run_url.rstrip("/"),
            rest_url=self.rest_url.rstrip("/"),
            realtime_url=self.realtime_url.rstrip("/"),
        )

    def require_key(self) -> str:
        if not self.key:
            raise MissingCredentialsError(
                "no fal API key: set FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET), "
                "or pass key=... to the client"
            )
        return self.key


def _key_from_env(env: Mapping[str, str]) -> str | None:
    if env.get("FAL_KEY"):
        return env["FAL_KEY"]
    key_id, secret = env.get("FAL_KEY_ID"), env.get("FAL_KEY_SECRET")
    return f"{key_id}:{secret}" if key_id and secret else None


def _host_url(host: str | None) -> str | None:
    return f"https://{host}" if host else None
