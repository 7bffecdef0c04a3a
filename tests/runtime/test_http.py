"""Retries and error mapping of the HTTP layer."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import KEY

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*steps: int | Exception | httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A transport answering with the given statuses / responses, or raising the errors."""
    seen: list[httpx.Request] = []
    remaining = list(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = remaining.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(step, json={"ok": step < 400, "detail": f"status {step}"})

    return handle, seen


def make_client(handler: Handler, **options: Any) -> Any:
    from fal_models import FalClient

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return FalClient(key=KEY, queue_url="https://queue.test", http_client=http, **options)


def call(client: Any, method: str = "GET", *, idempotent: bool = True) -> httpx.Response:
    response: httpx.Response = client._send(method, "https://queue.test/x", idempotent=idempotent)
    return response


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("refused")


def read_error() -> httpx.ReadError:
    return httpx.ReadError("reset")


@pytest.mark.parametrize(
    ("steps", "idempotent", "attempts", "outcome"),
    [
        ((503, 502, 200), True, 3, 200),
        ((500, 200), True, 2, 200),
        ((408, 409, 200), True, 3, 200),
        ((429, 200), True, 2, 200),
        ((429, 200), False, 2, 200),  # refused with 429: nothing to duplicate
        ((503,), False, 1, "ServerError"),
        ((500,), False, 1, "ServerError"),
        ((400,), True, 1, "APIError"),
        ((404,), True, 1, "NotFoundError"),
        ((401,), True, 1, "AuthenticationError"),
        ((403,), True, 1, "AuthenticationError"),
    ],
)
def test_statuses_retried_only_when_safe(
    steps: tuple[int, ...], idempotent: bool, attempts: int, outcome: int | str
) -> None:
    from fal_models._runtime import _errors as errors

    handler, seen = scripted(*steps)
    with make_client(handler) as client:
        if isinstance(outcome, int):
            assert call(client, "POST", idempotent=idempotent).status_code == outcome
        else:
            with pytest.raises(getattr(errors, outcome)):
                call(client, "POST", idempotent=idempotent)
    assert len(seen) == attempts


def test_connect_errors_are_retried_even_for_submissions() -> None:
    handler, seen = scripted(connect_error(), httpx.ConnectTimeout("slow"), 200)
    with make_client(handler) as client:
        assert call(client, "POST", idempotent=False).status_code == 200
    assert len(seen) == 3


def test_a_broken_submission_is_not_repeated() -> None:
    from fal_models import APIConnectionError

    handler, seen = scripted(read_error(), 200)
    with make_client(handler) as client, pytest.raises(APIConnectionError) as failure:
        call(client, "POST", idempotent=False)
    assert len(seen) == 1
    assert "ReadError" in str(failure.value) and "/x" in str(failure.value)


def test_broken_idempotent_calls_are_repeated() -> None:
    handler, seen = scripted(
        read_error(), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x"), 200
    )
    with make_client(handler) as client:
        assert call(client).status_code == 200
    assert len(seen) == 4


def test_max_retries_bounds_the_attempts() -> None:
    from fal_models import ServerError

    handler, seen = scripted(*([503] * 10))
    with make_client(handler, max_retries=3) as client, pytest.raises(ServerError):
        call(client)
    assert len(seen) == 4


def test_backoff_grows_with_jitter(no_backoff: list[float]) -> None:
    handler, _ = scripted(503, 503, 503, 503, 200)
    with make_client(handler) as client:
        call(client)
    assert len(no_backoff) == 4
    for attempt, delay in enumerate(no_backoff):
        assert 0 <= delay <= 0.1 * 2**attempt


def test_retry_after_is_honoured(no_backoff: list[float]) -> None:
    from fal_models._runtime._http import MAX_BACKOFF

    def limited(seconds: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": seconds}, json={"detail": "slow down"})

    handler, _ = scripted(limited("3"), limited("1000"), 200)
    with make_client(handler) as client:
        call(client)
    assert no_backoff == [3.0, MAX_BACKOFF]


def test_retry_after_parsing() -> None:
    from fal_models._runtime._http import retry_after

    def parse(value: str) -> float | None:
        return retry_after(httpx.Response(429, headers={"Retry-After": value}))

    assert parse("2.5") == 2.5
    assert parse("-4") == 0.0
    assert parse("not a date") is None
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 18 <= (parse(later) or 0) <= 21


def test_user_start_timeouts_are_not_retried() -> None:
    from fal_models import ServerError

    expired = httpx.Response(
        504, headers={"X-Fal-Request-Timeout-Type": "user"}, json={"detail": "timed out"}
    )
    handler, seen = scripted(expired, 200)
    with make_client(handler) as client, pytest.raises(ServerError):
        call(client)
    assert len(seen) == 1


def test_error_mapping_reads_fal_error_bodies() -> None:
    from fal_models import RateLimitError, ValidationError

    detail = [
        {
            "loc": ["body", "image_size", "width"],
            "msg": "Input should be an integer",
            "type": "int",
        },
        {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"},
    ]
    invalid = httpx.Response(422, json={"detail": detail}, headers={"x-fal-request-id": "r-1"})
    handler, _ = scripted(invalid)
    with make_client(handler) as client, pytest.raises(ValidationError) as failure:
        call(client)
    error = failure.value
    assert [item.loc for item in error.errors] == [("image_size", "width"), ("prompt",)]
    assert error.status_code == 422 and error.request_id == "r-1"
    assert "image_size.width: Input should be an integer" in str(error)

    limited = httpx.Response(
        429,
        headers={"Retry-After": "9", "X-Fal-Error-Type": "rate_limited"},
        json={"detail": "Too many requests"},
    )
    handler, _ = scripted(limited)
    with make_client(handler, max_retries=0) as client, pytest.raises(RateLimitError) as limit:
        call(client)
    assert limit.value.retry_after == 9.0 and limit.value.error_type == "rate_limited"
    assert str(limit.value) == "Too many requests (status 429, error type rate_limited)"


def test_non_json_error_bodies() -> None:
    from fal_models import ServerError

    handler, _ = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    with make_client(handler, max_retries=0) as client, pytest.raises(ServerError) as failure:
        call(client)
    assert failure.value.body == "<html>bad gateway</html>"
    assert "HTTP 502" in str(failure.value)


@pytest.mark.parametrize(
    ("key", "echoed"),
    [
        ("sk-echoed-0f3a9c7e5b1d", "key sk-echoed-0f3a9c7e5b1d is invalid"),
        ("keyid-7e1c0a93:secret-5b2d8f64", "no key keyid-7e1c0a93 (secret secret-5b2d8f64)"),
    ],
)
def test_credentials_echoed_by_an_error_reply_are_redacted(key: str, echoed: str) -> None:
    """A gateway that echoes the refused key (or either half of ``id:secret``) in its JSON or
    text body, or in a header, does not get it into the error."""
    from fal_models import APIError, FalClient

    replies = [
        httpx.Response(403, json={"detail": echoed, "input": [{"key": echoed}]}),
        httpx.Response(502, text=f"<html>{echoed}</html>"),
        httpx.Response(401, headers={"x-fal-error-type": echoed}, json={"detail": "no"}),
    ]
    for reply in replies:
        handler, _ = scripted(reply)
        http = httpx.Client(transport=httpx.MockTransport(handler))
        with (
            FalClient(
                key=key, queue_url="https://queue.test", http_client=http, max_retries=0
            ) as client,
            pytest.raises(APIError) as failure,
        ):
            call(client)
        error = failure.value
        text = f"{error} {error!r} {error.body!r} {error.error_type} {error.message}"
        assert "[redacted]" in text
        assert all(part not in text for part in (key, *key.split(":"))), text


def test_requests_carry_the_key_and_user_agent() -> None:
    handler, seen = scripted(200)
    with make_client(handler) as client:
        call(client)
    assert seen[0].headers["authorization"] == f"Key {KEY}"
    assert seen[0].headers["user-agent"].startswith("fal-models/")


@pytest.mark.anyio
async def test_async_retries_follow_the_same_rules() -> None:
    from fal_models import APIConnectionError, AsyncFalClient

    handler, seen = scripted(503, read_error(), 200, read_error())
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncFalClient(key=KEY, queue_url="https://queue.test", http_client=http) as client:
        response = await client._send("GET", "https://queue.test/x", idempotent=True)
        assert response.status_code == 200
        with pytest.raises(APIConnectionError):
            await client._send("POST", "https://queue.test/x", idempotent=False)
    assert len(seen) == 4
    await http.aclose()
