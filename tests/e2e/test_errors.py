"""Each error class, raised by real failures, with useful messages that never hold the key."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pydantic
import pytest

from generator.server import Faults, ServerURLs
from tests.e2e.conftest import KEY, client_options, release, reset, stats


def assert_no_key(*objects: object) -> None:
    for item in objects:
        assert KEY not in str(item) and KEY not in repr(item)
        if isinstance(item, BaseException):
            assert KEY not in repr(item.args)
            assert KEY not in repr(getattr(item, "body", None))


class LooseInput(pydantic.BaseModel):
    """Accepts anything, so that the server, not the client, judges the input."""

    model_config = pydantic.ConfigDict(extra="allow")


def loose_flux(client: Any) -> Any:
    from fal_models._runtime import SyncEndpoint
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    class LooseFlux(SyncEndpoint[LooseInput, Flux1SchnellOutput]):
        endpoint_id = "fal-ai/flux-1/schnell"
        app_id = "fal-ai/flux-1"
        input_model = LooseInput
        output_model = Flux1SchnellOutput

    return LooseFlux(client)


def test_client_side_validation_sends_nothing(client: Any, server: ServerURLs) -> None:
    from fal_models import ValidationError

    with pytest.raises(ValidationError) as failure:
        client.flux_1_schnell(prompt="a fox", num_images="many")
    assert [error.path for error in failure.value.errors] == ["num_images"]
    assert failure.value.status_code is None
    assert "num_images" in str(failure.value)
    assert stats(server)["routes"] == {}
    assert_no_key(failure.value)


def test_server_side_validation_maps_field_paths(client: Any) -> None:
    from fal_models import ValidationError

    loose = loose_flux(client)
    with pytest.raises(ValidationError) as direct:
        loose._run({"num_images": "many"}, {})
    assert direct.value.status_code == 422
    assert {error.path for error in direct.value.errors} == {"prompt", "num_images"}
    with pytest.raises(ValidationError) as queued:
        loose._subscribe({"image_size": {"width": "wide"}, "prompt": "a fox"}, {})
    assert queued.value.request_id and queued.value.status_code == 422
    assert any(error.loc[:1] == ("image_size",) for error in queued.value.errors)
    assert_no_key(direct.value, queued.value)


def test_wrong_key_is_an_authentication_error(server: ServerURLs) -> None:
    from fal_models import AuthenticationError, FalClient

    with (
        FalClient(**client_options(server, key="not-the-key-8c1f")) as client,
        pytest.raises(AuthenticationError) as failure,
    ):
        client.flux_1_schnell(prompt="a fox")
    assert failure.value.status_code == 401
    assert "not-the-key-8c1f" not in str(failure.value) + repr(failure.value.body)


def test_missing_key_fails_before_any_request(
    server: ServerURLs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fal_models import FalClient, MissingCredentialsError

    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    reset(server)
    options = client_options(server)
    del options["key"]
    with FalClient(**options) as client, pytest.raises(MissingCredentialsError, match="FAL_KEY"):
        client.flux_1_schnell(prompt="a fox")
    assert stats(server)["routes"] == {}


def test_unknown_request_is_not_found(client: Any) -> None:
    from fal_models import NotFoundError

    handle = client.flux_1_schnell.handle("no-such-request")
    with pytest.raises(NotFoundError) as failure:
        handle.status()
    assert failure.value.status_code == 404 and "no-such-request" in str(failure.value)
    with pytest.raises(NotFoundError):
        handle.result()
    assert_no_key(failure.value, handle, client, client.config, client.flux_1_schnell)


def test_rate_limit_error_carries_retry_after(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, RateLimitError

    urls = serve(faults=Faults(rate_limit_rate=1.0, retry_after=7, routes=frozenset({"status"})))
    with FalClient(**client_options(urls, max_retries=0)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        with pytest.raises(RateLimitError) as failure:
            handle.status()
    assert failure.value.retry_after == 7 and failure.value.status_code == 429
    assert_no_key(failure.value)


def test_server_error(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, ServerError

    urls = serve(faults=Faults(error_rate=1.0, error_status=503, routes=frozenset({"result"})))
    with (
        FalClient(**client_options(urls, max_retries=1)) as client,
        pytest.raises(ServerError) as failure,
    ):
        client.flux_1_schnell(prompt="a fox")
    assert failure.value.status_code == 503
    assert failure.value.error_type == "runner_scheduling_failure"
    assert stats(urls)["routes"]["result"] == 2, "one retry, then the error"


def test_failed_request_raises_request_failed(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import AsyncFalClient, FalClient, RequestFailed

    urls = serve(faults=Faults(failure_rate=1.0))
    with FalClient(**client_options(urls)) as client, pytest.raises(RequestFailed) as failure:
        client.flux_1_schnell(prompt="a fox")
    error = failure.value
    assert (error.status_code, error.error_type) == (500, "runner_server_error")
    assert error.request_id and "Simulated model failure" in str(error)
    assert stats(urls)["routes"]["result"] == 1, "a failed result is not retried"

    import anyio

    async def failing() -> None:
        async with AsyncFalClient(**client_options(urls)) as aclient:
            await aclient.flux_1_schnell(prompt="a fox")

    with pytest.raises(RequestFailed):
        anyio.run(failing)


def test_client_timeout_cancels_the_request(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, RequestFailed, TimeoutError

    urls = serve(hold=True)
    ids: list[str] = []
    with FalClient(**client_options(urls)) as client:
        with pytest.raises(TimeoutError) as failure:
            client.flux_1_schnell(prompt="a fox", timeout=0.3, on_enqueue=ids.append)
        (request_id,) = ids
        assert request_id in str(failure.value)
        # The server stops the request shortly after the cancellation it accepted.
        with pytest.raises(RequestFailed) as cancelled:
            client.flux_1_schnell.handle(request_id).result(timeout=5)
    assert cancelled.value.error_type == "client_cancelled"
    assert stats(urls)["routes"]["cancel"] == 1


def test_client_timeout_holds_while_the_status_stream_keeps_talking(
    serve: Callable[..., ServerURLs],
) -> None:
    """Progress events every 0.1 s must not carry the call past its deadline."""
    import time

    from fal_models import FalClient, TimeoutError

    urls = serve(queue_delay=0.05, progress_steps=60, step_delay=0.1)
    with FalClient(**client_options(urls)) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.flux_1_schnell(prompt="a fox", timeout=0.6, with_logs=True)
        assert time.monotonic() - started < 2.0
    assert stats(urls)["routes"]["cancel"] == 1


@pytest.mark.anyio
async def test_async_client_timeout_holds_while_the_status_stream_keeps_talking(
    serve: Callable[..., ServerURLs],
) -> None:
    import time

    from fal_models import AsyncFalClient, TimeoutError

    urls = serve(queue_delay=0.05, progress_steps=60, step_delay=0.1)
    async with AsyncFalClient(**client_options(urls)) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.flux_1_schnell(prompt="a fox", timeout=0.6, with_logs=True)
        assert time.monotonic() - started < 2.0
    assert stats(urls)["routes"]["cancel"] == 1


@pytest.mark.anyio
async def test_async_client_timeout_cancels_the_request(serve: Callable[..., ServerURLs]) -> None:
    import builtins

    from fal_models import AsyncFalClient, FalError

    urls = serve(hold=True)
    async with AsyncFalClient(**client_options(urls)) as client:
        with pytest.raises(builtins.TimeoutError) as failure:
            await client.flux_1_schnell(prompt="a fox", timeout=0.3)
    assert isinstance(failure.value, FalError)
    assert stats(urls)["routes"]["cancel"] == 1


def test_handle_result_timeout_leaves_the_request_running(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, TimeoutError

    urls = serve(hold=True)
    with FalClient(**client_options(urls)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        with pytest.raises(TimeoutError):
            handle.result(timeout=0.2)
        release(urls, handle.request_id)
        assert handle.result(timeout=5).images
    assert stats(urls)["routes"].get("cancel", 0) == 0


def test_unreachable_server_is_a_connection_error() -> None:
    from fal_models import APIConnectionError, FalClient

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with (
        FalClient(key=KEY, queue_url=base, max_retries=2) as client,
        pytest.raises(APIConnectionError) as failure,
    ):
        client.flux_1_schnell(prompt="a fox")
    assert "ConnectError" in str(failure.value)
    assert_no_key(failure.value)
