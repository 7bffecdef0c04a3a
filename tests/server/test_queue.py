"""The queue host: submit, status (polled and streamed), result, cancel, options, holding."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from generator.loader import SpecDocument
from generator.server import ServerConfig, ServerURLs, input_digest, running_server
from tests.server.support import FLUX, complete, stats, wait_until


def submit(
    client: httpx.Client,
    urls: ServerURLs,
    payload: object,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = client.post(f"{urls.queue}/{FLUX}", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_submit_reply_addresses_the_request_by_app(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.queue}/{FLUX}", json={"prompt": "a fox"})

    body = response.json()
    base = f"{server.queue}/fal-ai/flux-1/requests/{body['request_id']}"
    assert body["response_url"] == base
    assert body["status_url"] == base + "/status"
    assert body["cancel_url"] == base + "/cancel"
    assert isinstance(body["queue_position"], int)
    assert response.headers["x-fal-request-id"] == body["request_id"]


def test_polled_status_goes_from_queue_to_completed_with_logs_and_metrics(
    server: ServerURLs, client: httpx.Client
) -> None:
    submitted = submit(client, server, {"prompt": "a fox"})

    final = complete(client, submitted)

    assert final["request_id"] == submitted["request_id"]
    assert final["metrics"]["inference_time"] > 0
    assert "error" not in final
    assert [log["message"] for log in final["logs"]] == ["Step 1/2", "Step 2/2"]
    assert set(final["logs"][0]) == {"message", "level", "source", "timestamp"}


@pytest.mark.parametrize("flag", ["1", "true"])
def test_status_includes_logs_only_when_asked(
    server: ServerURLs, client: httpx.Client, flag: str
) -> None:
    submitted = submit(client, server, {"prompt": "a fox"})
    complete(client, submitted)

    plain = client.get(submitted["status_url"]).json()
    with_logs = client.get(submitted["status_url"], params={"logs": flag}).json()

    assert plain["logs"] is None
    assert len(with_logs["logs"]) == 2


def test_status_stream_sends_every_change_and_ends_after_completed(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    # One runner and a visible queue delay: the second request waits behind the first.
    with running_server(specs, ServerConfig(runners=1, queue_delay=0.2)) as urls:
        submit(client, urls, {"prompt": "ahead"})
        submitted = submit(client, urls, {"prompt": "behind"})
        stream_url = submitted["status_url"] + "/stream"
        with connect_sse(client, "GET", stream_url, params={"logs": 1}) as sse:
            events = [event.json() for event in sse.iter_sse()]

    assert [(e["status"], e.get("queue_position")) for e in events] == [
        ("IN_QUEUE", 1),
        ("IN_QUEUE", 0),
        ("IN_PROGRESS", None),
        ("IN_PROGRESS", None),
        ("IN_PROGRESS", None),
        ("COMPLETED", None),
    ]
    # As on fal, each event carries only the lines new since the previous one (a polled status
    # carries all of them).
    assert [[log["message"] for log in e["logs"]] for e in events] == [
        [],
        [],
        [],
        ["Step 1/2"],
        ["Step 2/2"],
        [],
    ]
    assert events[-1]["metrics"]["inference_time"] > 0


def test_a_stream_opened_late_starts_with_every_line_so_far(
    server: ServerURLs, client: httpx.Client
) -> None:
    submitted = submit(client, server, {"prompt": "a fox"})
    complete(client, submitted)
    stream_url = submitted["status_url"] + "/stream"

    with connect_sse(client, "GET", stream_url, params={"logs": 1}) as sse:
        events = [event.json() for event in sse.iter_sse()]

    assert [[log["message"] for log in e["logs"]] for e in events] == [["Step 1/2", "Step 2/2"]]


def test_result_is_the_output(server: ServerURLs, client: httpx.Client) -> None:
    submitted = submit(client, server, {"prompt": "a fox", "seed": 7})
    complete(client, submitted)

    result = client.get(submitted["response_url"])

    assert result.status_code == 200
    assert result.json()["prompt"] == "a fox"
    assert result.json()["seed"] == 7


def test_invalid_input_is_accepted_then_fails_at_the_result(
    server: ServerURLs, client: httpx.Client
) -> None:
    # fal's queue takes any JSON; the model's validation error surfaces at the result.
    submitted = submit(client, server, {"num_images": "many"})
    final = complete(client, submitted)

    result = client.get(submitted["response_url"])

    assert final["error"]
    assert result.status_code == 422
    locations = [item["loc"] for item in result.json()["detail"]]
    assert ["body", "prompt"] in locations
    assert ["body", "num_images"] in locations


def test_body_that_is_not_json_is_rejected_at_submit(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.queue}/{FLUX}", content=b"{not json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_requests_addressed_by_full_endpoint_id_are_not_found(
    server: ServerURLs, client: httpx.Client
) -> None:
    submitted = submit(client, server, {"prompt": "a fox"})

    response = client.get(f"{server.queue}/{FLUX}/requests/{submitted['request_id']}/status")

    assert response.status_code == 404
    assert submitted["response_url"] in response.json()["detail"]


def test_unknown_endpoints_and_requests_are_not_found(
    server: ServerURLs, client: httpx.Client
) -> None:
    assert client.post(f"{server.queue}/fal-ai/nothing", json={}).status_code == 404
    missing = client.get(f"{server.queue}/fal-ai/flux-1/requests/no-such-id/status")
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_cancel_after_completion_is_refused(server: ServerURLs, client: httpx.Client) -> None:
    submitted = submit(client, server, {"prompt": "a fox"})
    complete(client, submitted)

    response = client.put(submitted["cancel_url"])

    assert response.status_code == 400
    assert response.json()["status"] == "ALREADY_COMPLETED"


def test_options_are_recorded_and_checked(server: ServerURLs, client: httpx.Client) -> None:
    headers = {
        "X-Fal-Queue-Priority": "low",
        "X-Fal-Request-Timeout": "30",
        "X-Fal-Runner-Hint": "runner-7",
    }
    submitted = submit(client, server, {"prompt": "options"}, headers=headers)

    record = stats(client, server)["requests"][submitted["request_id"]]
    assert (record["priority"], record["start_timeout"], record["runner_hint"]) == (
        "low",
        30.0,
        "runner-7",
    )
    bad_priority = client.post(
        f"{server.queue}/{FLUX}", json={}, headers={"X-Fal-Queue-Priority": "urgent"}
    )
    bad_timeout = client.post(
        f"{server.queue}/{FLUX}", json={}, headers={"X-Fal-Request-Timeout": "soon"}
    )
    assert bad_priority.status_code == bad_timeout.status_code == 400
    assert bad_timeout.headers["x-fal-error-type"] == "bad_request"


def test_submissions_are_counted_per_endpoint_and_input(
    server: ServerURLs, client: httpx.Client
) -> None:
    payload = {"prompt": "counted", "seed": 1}
    before = (
        stats(client, server)["submissions_by_input"].get(FLUX, {}).get(input_digest(payload), 0)
    )

    submit(client, server, payload)
    submit(client, server, {"seed": 1, "prompt": "counted"})  # same input, other key order

    after = stats(client, server)["submissions_by_input"][FLUX][input_digest(payload)]
    assert after == before + 2


def test_cancel_in_queue_completes_the_request_as_cancelled(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    with running_server(specs, ServerConfig(queue_delay=5)) as urls:
        submitted = submit(client, urls, {"prompt": "never"})

        cancelled = client.put(submitted["cancel_url"])
        final = complete(client, submitted)
        result = client.get(submitted["response_url"])

    assert cancelled.status_code == 202
    assert final["error_type"] == "client_cancelled"
    assert result.status_code == 499
    assert result.headers["x-fal-error-type"] == "client_cancelled"


def test_start_timeout_fails_requests_that_wait_too_long(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    with running_server(specs, ServerConfig(queue_delay=5)) as urls:
        submitted = submit(
            client, urls, {"prompt": "late"}, headers={"X-Fal-Request-Timeout": "0.05"}
        )
        final = complete(client, submitted)
        result = client.get(submitted["response_url"])

    assert final["error_type"] == "request_timeout"
    assert result.status_code == 504
    assert result.headers["x-fal-request-timeout-type"] == "user"


def test_held_requests_wait_in_line_by_priority_until_released(
    client: httpx.Client, anon: httpx.Client, specs: list[SpecDocument]
) -> None:
    config = ServerConfig(runners=1, hold=True, queue_delay=0)
    with running_server(specs, config) as urls:
        first = submit(client, urls, {"prompt": "first"})
        wait_until(lambda: client.get(first["status_url"]).json()["status"] == "IN_PROGRESS")
        low = submit(client, urls, {"prompt": "low"}, headers={"X-Fal-Queue-Priority": "low"})
        normal = submit(client, urls, {"prompt": "normal"})

        positions = [client.get(r["status_url"]).json() for r in (normal, low)]
        early_result = client.get(first["response_url"])
        released_at = time.time()
        release = f"{urls.admin}/release/{first['request_id']}"
        assert anon.post(release, headers=urls.admin_headers).status_code == 200
        complete(client, first)
        wait_until(lambda: client.get(normal["status_url"]).json()["status"] == "IN_PROGRESS")
        low_position = client.get(low["status_url"]).json()["queue_position"]
        record = stats(client, urls)["requests"][first["request_id"]]
        not_held = anon.post(release, headers=urls.admin_headers)

    assert [(p["status"], p["queue_position"]) for p in positions] == [
        ("IN_QUEUE", 0),
        ("IN_QUEUE", 1),
    ]
    assert early_result.status_code == 400
    assert low_position == 0
    assert record["completed_at"] >= released_at
    assert not_held.status_code == 409
