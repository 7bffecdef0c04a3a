"""Fault injection as clients meet it: 5xx, 429, real dropped connections, slow answers."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from generator.loader import SpecDocument
from generator.server import Faults, ServerConfig, input_digest, running_server
from tests.server.support import FLUX, stats

PAYLOAD = {"prompt": "under fire"}


def faulty(**options: Any) -> ServerConfig:
    return ServerConfig(faults=Faults(**options))


def test_server_errors_until_the_limit(client: httpx.Client, specs: list[SpecDocument]) -> None:
    config = faulty(error_rate=1.0, limit=2, routes=frozenset({"submit"}))
    with running_server(specs, config) as urls:
        replies = [client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD) for _ in range(3)]
        counters = stats(client, urls)

    assert [reply.status_code for reply in replies] == [503, 503, 200]
    assert replies[0].headers["x-fal-error-type"] == "runner_scheduling_failure"
    assert replies[0].json()["error_type"] == "runner_scheduling_failure"
    assert counters["faults"] == {"error": 2}
    assert counters["submissions"] == {FLUX: 1}  # rejected submissions never queued anything
    assert counters["routes"]["submit"] == 3


def test_rate_limits_carry_retry_after(client: httpx.Client, specs: list[SpecDocument]) -> None:
    with running_server(specs, faulty(rate_limit_rate=1.0, retry_after=3)) as urls:
        reply = client.post(f"{urls.run}/{FLUX}", json=PAYLOAD)

    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "3"
    assert "detail" in reply.json()


@pytest.mark.parametrize(("after", "queued"), [(True, 1), (False, 0)])
def test_dropped_connections_are_real_connection_errors(
    client: httpx.Client, specs: list[SpecDocument], after: bool, queued: int
) -> None:
    config = faulty(drop_rate=1.0, limit=1, drop_after_processing=after)
    with running_server(specs, config) as urls:
        with pytest.raises(httpx.TransportError):
            client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD)
        retried = client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD)
        counters = stats(client, urls)

    assert retried.status_code == 200
    # A drop after processing lost the reply of a request that was queued: a naive retry
    # submits the same input twice, which the per-input counter shows.
    assert counters["submissions_by_input"][FLUX][input_digest(PAYLOAD)] == queued + 1
    assert counters["faults"] == {"drop": 1}


def test_dropped_streams_break_after_the_first_event(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    config = ServerConfig(
        queue_delay=0.2, faults=Faults(drop_rate=1.0, routes=frozenset({"status_stream"}))
    )
    with running_server(specs, config) as urls:
        submitted = client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD).json()
        received: list[dict[str, Any]] = []
        stream = connect_sse(client, "GET", submitted["status_url"] + "/stream")
        with pytest.raises(httpx.TransportError), stream as sse:
            received.extend(event.json() for event in sse.iter_sse())

    assert [event["status"] for event in received] == ["IN_QUEUE"]


def test_slow_answers_are_delayed(client: httpx.Client, specs: list[SpecDocument]) -> None:
    config = faulty(slow_rate=1.0, slow_delay=0.3, routes=frozenset({"storage_token"}))
    with running_server(specs, config) as urls:
        started = time.monotonic()
        reply = client.post(f"{urls.rest}/storage/auth/token?storage_type=fal-cdn-v3")
        elapsed = time.monotonic() - started
        counters = stats(client, urls)

    assert reply.status_code == 200
    assert elapsed >= 0.3
    assert counters["faults"] == {"slow": 1}


def test_rates_hold_and_sequences_replay_after_a_reset(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    config = ServerConfig(
        seed=7, faults=Faults(error_rate=0.25, rate_limit_rate=0.1, routes=frozenset({"status"}))
    )
    status_url = "/queue/fal-ai/flux-1/requests/unknown/status"

    def codes(base: str) -> list[int]:
        return [client.get(base + status_url).status_code for _ in range(200)]

    with running_server(specs, config) as urls:
        first = codes(urls.base)
        client.post(urls.admin + "/reset", headers=urls.admin_headers)
        replay = codes(urls.base)
        counters = stats(client, urls)

    assert first == replay
    assert 30 <= first.count(503) <= 70
    assert 8 <= first.count(429) <= 35
    assert first.count(404) == 200 - first.count(503) - first.count(429)
    assert counters["faults"] == {"error": first.count(503), "rate_limit": first.count(429)}


def attempts(counters: dict[str, Any], payload: object) -> list[str]:
    """The outcomes of every submission of ``payload`` to flux, in order."""
    log = counters["submit_attempts"].get(FLUX, {}).get(input_digest(payload), [])
    return [attempt["outcome"] for attempt in log]


@pytest.mark.parametrize(
    ("faults", "outcome"),
    [
        ({"error_rate": 1.0}, "server_error"),
        ({"rate_limit_rate": 1.0, "retry_after": 0}, "rate_limited"),
        ({"drop_rate": 1.0, "drop_after_processing": False}, "dropped_unprocessed"),
        ({"drop_rate": 1.0}, "queued_reply_dropped"),
    ],
)
def test_every_submission_attempt_is_recorded_with_its_fate(
    client: httpx.Client, specs: list[SpecDocument], faults: dict[str, Any], outcome: str
) -> None:
    """The attempt log proves which repeated submissions were harmless: those whose earlier
    attempts never queued anything."""
    config = faulty(**faults, limit=1, routes=frozenset({"submit"}))
    with running_server(specs, config) as urls:
        with pytest.raises(httpx.TransportError) if "drop_rate" in faults else nullcontext():
            client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD)
        retried = client.post(f"{urls.queue}/{FLUX}", json=PAYLOAD)
        counters = stats(client, urls)

    assert retried.status_code == 200
    assert attempts(counters, PAYLOAD) == [outcome, "queued"]
    log = counters["submit_attempts"][FLUX][input_digest(PAYLOAD)]
    assert log[-1]["request_id"] == retried.json()["request_id"]
    record = counters["requests"][retried.json()["request_id"]]
    assert record["input_digest"] == input_digest(PAYLOAD)


def test_unreadable_submissions_are_not_recorded(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    config = faulty(error_rate=1.0, routes=frozenset({"submit"}))
    with running_server(specs, config) as urls:
        reply = client.post(f"{urls.queue}/{FLUX}", content=b"{not json")
        counters = stats(client, urls)
        client.post(urls.admin + "/reset", headers=urls.admin_headers)
        after_reset = stats(client, urls)

    assert reply.status_code == 503
    assert counters["submit_attempts"] == {}
    assert after_reset["submit_attempts"] == {}
