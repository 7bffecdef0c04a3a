"""Retries against injected faults: idempotent calls recover, submissions are never doubled."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from generator.server import Faults, ServerURLs
from tests.e2e.conftest import client_options, stats

IDEMPOTENT_ROUTES = frozenset({"status", "status_stream", "result", "storage_token", "upload"})


def test_idempotent_calls_survive_errors_and_drops(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient

    faults = Faults(
        error_rate=0.25,
        rate_limit_rate=0.1,
        drop_rate=0.15,
        retry_after=0,
        routes=IDEMPOTENT_ROUTES,
        limit=20,  # bounds the backoff time of the test
    )
    urls = serve(faults=faults)
    with FalClient(**client_options(urls, upload_threshold=0)) as client:
        outputs = [
            client.omnigen_v2(prompt=f"call {index}", input_image_urls=[b"\x89PNG\r\n\x1a\n"])
            for index in range(8)
        ]
    assert all(output.images for output in outputs)
    data = stats(urls)
    assert sum(data["faults"].values()) >= 8, data["faults"]
    assert data["submissions"] == {"fal-ai/omnigen-v2": 8}
    # Uploads are repeated when a reply is lost: harmless, unlike a repeated submission.
    assert data["uploads"] >= 8


def test_rate_limited_submissions_are_retried_once_accepted(
    serve: Callable[..., ServerURLs],
) -> None:
    """A 429 means the submission was refused, so sending it again cannot double it."""
    from fal_models import FalClient

    urls = serve(faults=Faults(rate_limit_rate=0.6, retry_after=0, routes=frozenset({"submit"})))
    with FalClient(**client_options(urls)) as client:
        for index in range(6):
            client.flux_1_schnell(prompt=f"call {index}")
    data = stats(urls)
    assert data["faults"]["rate_limit"] >= 3
    counts = data["submissions_by_input"]["fal-ai/flux-1/schnell"]
    assert sorted(counts.values()) == [1] * 6


@pytest.mark.parametrize("kind", ["error", "drop"])
def test_a_submission_that_may_have_arrived_is_not_repeated(
    serve: Callable[..., ServerURLs], kind: str
) -> None:
    from fal_models import APIConnectionError, FalClient, ServerError

    faults = Faults(error_rate=1.0) if kind == "error" else Faults(drop_rate=1.0)
    urls = serve(faults=Faults(**{**vars(faults), "routes": frozenset({"submit"}), "limit": 1}))
    expected = ServerError if kind == "error" else APIConnectionError
    with FalClient(**client_options(urls)) as client:
        with pytest.raises(expected):
            client.flux_1_schnell(prompt="only once")
        assert stats(urls)["routes"]["submit"] == 1
        # The fault was a one-off: the next call goes through.
        assert client.flux_1_schnell(prompt="next").images
    data = stats(urls)
    assert data["routes"]["submit"] == 2
    # A dropped connection loses the reply of a submission that did queue the request.
    assert sum(data["submissions"].values()) == (1 if kind == "error" else 2)


def test_direct_runs_are_not_repeated_after_errors(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, ServerError

    urls = serve(faults=Faults(error_rate=1.0, routes=frozenset({"run"})))
    with FalClient(**client_options(urls)) as client, pytest.raises(ServerError):
        client.flux_1_schnell.run(prompt="a fox")
    assert stats(urls)["routes"]["run"] == 1


@pytest.mark.anyio
async def test_async_retries(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import AsyncFalClient

    faults = Faults(error_rate=0.3, drop_rate=0.2, routes=IDEMPOTENT_ROUTES, limit=12)
    urls = serve(faults=faults)
    async with AsyncFalClient(**client_options(urls)) as client:
        for index in range(6):
            assert (await client.flux_1_schnell(prompt=f"call {index}")).images
    data = stats(urls)
    assert sum(data["faults"].values()) >= 4
    assert data["submissions"] == {"fal-ai/flux-1/schnell": 6}
