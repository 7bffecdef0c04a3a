"""How a request ends, and the HTTP answers fal gives for each ending.

fal's model APIs have two error shapes: model errors (HTTP 422, ``detail`` a list of located
problems) and request errors (``detail`` a sentence plus a machine-readable ``error_type``,
repeated in the ``X-Fal-Error-Type`` header). Its Platform API (the model catalogue) answers
``{"error": {"type", "message"}}`` instead. Every error the server produces is built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

ERROR_TYPE_HEADER = "X-Fal-Error-Type"
# Set on timeouts the caller asked for (X-Fal-Request-Timeout), which clients must not retry.
TIMEOUT_TYPE_HEADER = "X-Fal-Request-Timeout-Type"
REQUEST_ID_HEADER = "X-Fal-Request-Id"

# Injected 5xx faults, with the error type fal documents for that status.
ERROR_TYPES_BY_STATUS = {
    500: "internal_error",
    502: "runner_incomplete_response",
    503: "runner_scheduling_failure",
    504: "request_timeout",
}


@dataclass(frozen=True)
class Outcome:
    """The end of a run: the HTTP status and body its result is served with."""

    status_code: int
    body: Any
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def succeeded(output: dict[str, Any]) -> Outcome:
    return Outcome(200, output)


def invalid_input(detail: list[dict[str, Any]]) -> Outcome:
    return Outcome(422, {"detail": detail}, error="Input validation failed")


def request_error(status_code: int, detail: str, error_type: str) -> Outcome:
    return Outcome(status_code, {"detail": detail, "error_type": error_type}, detail, error_type)


MODEL_FAILURE = request_error(500, "Simulated model failure", "runner_server_error")
INTERNAL_ERROR = request_error(500, "Internal error in the local server", "internal_error")
CANCELLED = request_error(499, "Request was cancelled", "client_cancelled")
START_TIMED_OUT = request_error(504, "Request timed out before it started", "request_timeout")


def outcome_response(outcome: Outcome, request_id: str | None = None) -> JSONResponse:
    headers: dict[str, str] = {}
    if outcome.error_type:
        headers[ERROR_TYPE_HEADER] = outcome.error_type
    if outcome is START_TIMED_OUT:
        headers[TIMEOUT_TYPE_HEADER] = "user"
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


def error_response(
    status_code: int,
    detail: Any,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error body ``{"detail": ...}`` (plus ``error_type`` when given)."""
    body: dict[str, Any] = {"detail": detail}
    all_headers = dict(headers or {})
    if error_type:
        body["error_type"] = error_type
        all_headers[ERROR_TYPE_HEADER] = error_type
    return JSONResponse(body, status_code=status_code, headers=all_headers)


# The Platform API's error types, by status.
PLATFORM_ERROR_TYPES = {
    400: "validation_error",
    401: "authorization_error",
    403: "authorization_error",
    404: "not_found",
    405: "not_found",
    429: "rate_limited",
}


def platform_error(
    status_code: int,
    detail: Any,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error of the Platform API: ``{"error": {"type", "message"}}``, the type following the
    status (``error_type``, a model API notion, is not part of this shape)."""
    kind = PLATFORM_ERROR_TYPES.get(status_code, "server_error")
    body = {"error": {"type": kind, "message": str(detail)}}
    return JSONResponse(body, status_code=status_code, headers=headers)


# Builds an error answer: error_response for the model APIs, platform_error for the Platform API.
ErrorAnswer = Callable[[int, Any, str | None, dict[str, str] | None], JSONResponse]
