"""The exceptions the client raises. Messages never contain the API key."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "FalError",
    "FieldError",
    "MissingCredentialsError",
    "MissingDependencyError",
    "NotFoundError",
    "RateLimitError",
    "RealtimeError",
    "RequestFailed",
    "ResponseTooLargeError",
    "ServerError",
    "TimeoutError",
    "UntrustedURLError",
    "ValidationError",
    "WebhookVerificationError",
]


class FalError(Exception):
    """Base class of every error raised by this package."""


class MissingCredentialsError(FalError):
    """No API key was configured; raised before any request is sent."""


class MissingDependencyError(FalError, ImportError):
    """An optional feature needs a package that is not installed; the message names the extra."""


class UntrustedURLError(FalError):
    """Credentials were not sent: the URL is neither a configured host nor one of fal's
    domains, or it is plain http to a host that is not loopback. Raised before any byte is
    sent."""


class APIConnectionError(FalError):
    """The server could not be reached, or the connection broke, after all retries."""


class APIError(FalError):
    """The API answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        details = [f"status {self.status_code}"] if self.status_code is not None else []
        if self.error_type:
            details.append(f"error type {self.error_type}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message


class AuthenticationError(APIError):
    """The key was rejected (HTTP 401/403)."""


class NotFoundError(APIError):
    """Unknown endpoint or request (HTTP 404)."""


class RateLimitError(APIError):
    """Too many requests (HTTP 429); ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (HTTP 5xx)."""


class ResponseTooLargeError(APIError):
    """A reply or download was larger than the client's limit (``max_response_bytes``,
    ``max_download_bytes``); reading stopped there."""


@dataclass(frozen=True)
class FieldError:
    """One invalid input: ``loc`` is the path to the field, e.g. ``("image_size", "width")``."""

    loc: tuple[str | int, ...]
    message: str
    type: str = ""

    @property
    def path(self) -> str:
        return ".".join(str(part) for part in self.loc) or "(input)"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationError(APIError, ValueError):
    """Invalid input: found by the client's models before sending (``status_code`` None) or
    reported by the API (HTTP 422)."""

    def __init__(self, errors: Sequence[FieldError], **kwargs: Any) -> None:
        self.errors = list(errors)
        summary = "; ".join(str(error) for error in self.errors) or "invalid input"
        super().__init__(f"invalid input: {summary}", **kwargs)

    @classmethod
    def from_detail(cls, detail: Sequence[Any], **kwargs: Any) -> ValidationError:
        """From fal's 422 ``detail`` list: ``{"loc": ["body", "field"], "msg", "type"}`` items."""
        errors = []
        for item in detail:
            if not isinstance(item, Mapping):
                errors.append(FieldError((), str(item)))
                continue
            loc = tuple(part for part in item.get("loc", ()) if isinstance(part, str | int))
            if loc[:1] == ("body",):
                loc = loc[1:]
            errors.append(FieldError(loc, str(item.get("msg", "")), str(item.get("type", ""))))
        return cls(errors, **kwargs)


class RequestFailed(APIError):
    """The request ran and completed with an error instead of a result."""


class TimeoutError(FalError, builtins.TimeoutError):
    """The client-side deadline passed before the result arrived. ``request_id`` names the
    request when it was queued (re-attach with ``client.<endpoint>.handle(request_id)`` when
    it was left running), ``timeout`` is the deadline in seconds."""

    def __init__(
        self, message: str, *, request_id: str | None = None, timeout: float | None = None
    ) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.timeout = timeout


class RealtimeError(FalError):
    """The realtime connection reported an error (an ``x-fal-error`` message) or broke."""

    def __init__(self, error: str, reason: str = "", payload: Any = None) -> None:
        super().__init__(f"{error}: {reason}" if reason else error)
        self.error = error
        self.reason = reason
        self.payload = payload


class WebhookVerificationError(FalError):
    """A webhook delivery's signature, timestamp or headers did not check out."""
