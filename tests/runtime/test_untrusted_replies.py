"""Replies are not trusted: where the key may go, how much is read, what a non-JSON reply means.

The hostile server (tests/hostile.py) is a real HTTP server on loopback; httpx.MockTransport
stands in where a test must control the bytes of a body as they are streamed.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import FLUX_OUTPUT
from tests.hostile import Answer, fake_fal, hostile_server
from tests.runtime.conftest import KEY


def client_for(url: str, **options: Any) -> Any:
    from fal_models import FalClient

    return FalClient(key=KEY, queue_url=f"{url}/queue", run_url=f"{url}/run", **options)


@pytest.mark.parametrize(
    "elsewhere",
    ["other-loopback-port", "http://queue.fal.run/app", "https://fal.ai.example.com/app"],
)
def test_the_key_does_not_follow_urls_a_reply_names(elsewhere: str) -> None:
    from fal_models import UntrustedURLError

    with hostile_server(lambda method, path: Answer(body={"status": "COMPLETED"})) as other:
        target = other.url if elsewhere == "other-loopback-port" else elsewhere
        urls = {
            "status_url": f"{target}/status",
            "response_url": f"{target}/result",
            "cancel_url": f"{target}/cancel",
        }
        with (
            fake_fal(submitted=urls, result=Answer(body=FLUX_OUTPUT)) as server,
            client_for(server.url) as client,
        ):
            with pytest.raises(UntrustedURLError, match="refusing to send credentials"):
                client.flux_1_schnell(prompt="a fox")
            handle = client.flux_1_schnell.submit(prompt="a fox")
            for call in (handle.status, handle.result, handle.cancel):
                with pytest.raises(UntrustedURLError):
                    call()
        assert other.requests == []  # not a byte reached the other host
        assert all(seen.method == "POST" for seen in server.requests)


@pytest.mark.anyio
async def test_the_async_client_refuses_the_same_urls() -> None:
    from fal_models import AsyncFalClient, UntrustedURLError

    with hostile_server(lambda method, path: Answer(body={"status": "COMPLETED"})) as other:
        urls = {"status_url": f"{other.url}/s", "response_url": f"{other.url}/r"}
        with fake_fal(submitted=urls, result=Answer(body=FLUX_OUTPUT)) as server:
            async with AsyncFalClient(key=KEY, queue_url=f"{server.url}/queue") as client:
                with pytest.raises(UntrustedURLError):
                    await client.flux_1_schnell(prompt="a fox")
        assert other.requests == []


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://queue.fal.run/fal-ai/x/requests/1/status", True),
        ("https://rest.alpha.fal.ai/tokens/", True),
        ("https://v3.fal.media/files/upload", True),
        ("wss://fal.run/fal-ai/x/realtime", True),
        ("https://gateway.example:8443/q", True),  # configured
        ("http://127.0.0.1:8765/queue/x", True),  # configured, loopback
        ("http://127.0.0.1:8766/queue/x", False),  # loopback, but not configured
        ("https://gateway.example/q", False),  # another port
        ("http://queue.fal.run/x", False),  # plain http
        ("ws://fal.run/x/realtime", False),
        ("https://fal.run.example.com/x", False),
        ("https://evilfal.ai/x", False),
        ("ftp://queue.fal.run/x", False),
    ],
)
def test_where_credentials_may_go(url: str, trusted: bool) -> None:
    from fal_models import ClientConfig, UntrustedURLError
    from fal_models._runtime import _http

    config = ClientConfig(
        key=KEY, queue_url="https://gateway.example:8443", rest_url="http://127.0.0.1:8765/rest"
    )
    if trusted:
        _http.require_trusted(config, url)
    else:
        with pytest.raises(UntrustedURLError):
            _http.require_trusted(config, url)


def test_a_configured_plain_http_host_is_refused_unless_loopback() -> None:
    from fal_models import UntrustedURLError

    sent: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    )
    with (
        client_for("http://gateway.example", http_client=http) as client,
        pytest.raises(UntrustedURLError, match="only https"),
    ):
        client.flux_1_schnell(prompt="a fox")
    assert sent == []


def test_storage_tokens_go_only_to_trusted_hosts() -> None:
    from fal_models import FalClient, UntrustedURLError

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        token = {"token": "cdn-token", "token_type": "Bearer", "base_url": "https://cdn.example"}
        return httpx.Response(200, json=token)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        FalClient(key=KEY, http_client=http) as client,
        pytest.raises(UntrustedURLError, match=r"cdn\.example"),
    ):
        client.storage.upload(b"content", content_type="text/plain")
    assert [request.url.host for request in sent] == ["rest.fal.ai"]


def test_realtime_tokens_are_scoped_to_the_alias_and_sent_only_to_trusted_hosts() -> None:
    from fal_models import ClientConfig, UntrustedURLError
    from fal_models._runtime._realtime import connection_url, token_request

    assert token_request("fal-ai/fast-lcm-diffusion")["allowed_apps"] == ["fast-lcm-diffusion"]
    assert token_request("workflows/someone/my-flow")["allowed_apps"] == ["my-flow"]
    assert token_request("comfy/someone/graph")["allowed_apps"] == ["graph"]
    trusted = ClientConfig(key=KEY)
    assert connection_url(trusted, "fal-ai/x", "t").startswith("wss://fal.run/fal-ai/x/realtime?")
    configured = ClientConfig(key=KEY, realtime_url="wss://gateway.example")
    assert connection_url(configured, "fal-ai/x", "t").startswith("wss://gateway.example/")
    with pytest.raises(UntrustedURLError, match="only https"):
        connection_url(ClientConfig(key=KEY, realtime_url="ws://gateway.example"), "fal-ai/x", "t")


# --- bounded reads ----------------------------------------------------------------------------


def test_a_reply_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    from fal_models import ResponseTooLargeError

    big = {**FLUX_OUTPUT, "prompt": "x" * 300_000}
    with fake_fal(result=Answer(body=big)) as server:
        with (
            client_for(server.url, max_response_bytes=100_000) as client,
            pytest.raises(ResponseTooLargeError, match="max_response_bytes"),
        ):
            client.flux_1_schnell(prompt="a fox")
        with client_for(server.url) as client:  # the default limit lets it through
            assert client.flux_1_schnell(prompt="a fox").prompt == big["prompt"]


class Chunks(httpx.SyncByteStream):
    """A body streamed in chunks, counting how many were taken."""

    def __init__(self, chunk: bytes, count: int) -> None:
        self.chunk, self.count, self.taken = chunk, count, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.count):
            self.taken += 1
            yield self.chunk


def test_an_endless_reply_without_a_length_stops_at_the_limit() -> None:
    from fal_models import ResponseTooLargeError

    body = Chunks(b"[" + b"1," * 5000, 100_000)  # 1 GB if read whole
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, stream=body)))
    with (
        client_for("https://queue.fal.run", http_client=http, max_response_bytes=50_000) as client,
        pytest.raises(ResponseTooLargeError),
    ):
        client.flux_1_schnell.handle("r").status()
    assert body.taken <= 6


def event_stream(body: httpx.SyncByteStream) -> httpx.Client:
    headers = {"content-type": "text/event-stream"}
    return httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, headers=headers, stream=body))
    )


def test_an_event_that_never_ends_stops_at_the_limit() -> None:
    """An event's text is kept until an empty line ends it: a stream of data lines that never
    ends one is refused at max_response_bytes, on the run stream and on the status stream."""
    from fal_models import ResponseTooLargeError
    from fal_models._runtime._queue import MAX_STREAM_RECONNECTS

    body = Chunks(b"data: " + b"x" * 998 + b"\n", 1_000_000)  # 1 GB in one event
    with client_for("https://queue.fal.run", http_client=event_stream(body)) as client:
        limited = client.with_options(max_response_bytes=50_000)
        with pytest.raises(ResponseTooLargeError, match="max_response_bytes"):
            list(limited.hidream_i1_full.stream(prompt="p"))
        assert body.taken <= 60
        body.taken = 0
        with pytest.raises(ResponseTooLargeError, match="max_response_bytes"):
            list(limited.flux_1_schnell.handle("r").iter_events())
        assert body.taken <= 60 * (MAX_STREAM_RECONNECTS + 1)  # a broken stream is reopened


def test_events_that_end_may_flow_past_the_limit() -> None:
    """The limit is per event: a long stream of small events goes through."""
    event = b'data: {"status": "IN_QUEUE", "queue_position": 1}\r\n\r\n: keep-alive\n\n'
    done = b'data: {"status": "COMPLETED"}\n\n'
    body = Chunks(event * 100, 50)  # 350 kB of events

    class Ending(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from body
            yield done

    with client_for("https://queue.fal.run", http_client=event_stream(Ending())) as client:
        statuses = list(
            client.with_options(max_response_bytes=10_000).flux_1_schnell.handle("r").iter_events()
        )
    assert len(statuses) == 5001 and statuses[-1].status == "COMPLETED"


def test_a_compressed_bomb_is_measured_after_decompression() -> None:
    from fal_models import ResponseTooLargeError

    bomb = gzip.compress(b" " * 10_000_000)  # 10 kB on the wire
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=bomb, headers=headers))
    )
    with (
        client_for(
            "https://queue.fal.run", http_client=http, max_response_bytes=1_000_000
        ) as client,
        pytest.raises(ResponseTooLargeError),
    ):
        client.flux_1_schnell.handle("r").status()


@pytest.mark.parametrize(
    "body", [b'{"images": [{"url": "https://v3.fal.media/a.png", "wid', b"<html>502</html>"]
)
def test_a_result_that_is_not_json_is_an_api_error_with_the_body(body: bytes) -> None:
    from fal_models import APIError

    with (
        fake_fal(result=Answer(body=body)) as server,
        client_for(server.url) as client,
        pytest.raises(APIError, match="not valid JSON") as failure,
    ):
        client.flux_1_schnell(prompt="a fox")
    assert type(failure.value) is APIError and not isinstance(failure.value, ValueError)
    assert failure.value.body == body.decode() and failure.value.status_code == 200
    assert failure.value.request_id == "req-1"


def test_a_422_with_a_string_detail_is_a_validation_error() -> None:
    from fal_models import ValidationError

    http = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(422, json={"detail": "prompt is too long"})
        )
    )
    with (
        client_for("https://queue.fal.run", http_client=http, max_retries=0) as client,
        pytest.raises(ValidationError, match="prompt is too long") as failure,
    ):
        client.flux_1_schnell.run(prompt="a fox")
    assert [str(error) for error in failure.value.errors] == ["(input): prompt is too long"]
    assert failure.value.status_code == 422
