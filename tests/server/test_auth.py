"""Authentication on every API route, the open routes, and secrets kept out of the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from generator.server import ServerURLs
from tests.server.support import AUTH, FLUX, KEY

# (method, path below the server base) of every route that needs the API key.
KEYED_ROUTES = [
    ("POST", f"/queue/{FLUX}"),
    ("GET", "/queue/fal-ai/flux-1/requests/some-id/status"),
    ("GET", "/queue/fal-ai/flux-1/requests/some-id/status/stream"),
    ("GET", "/queue/fal-ai/flux-1/requests/some-id"),
    ("PUT", "/queue/fal-ai/flux-1/requests/some-id/cancel"),
    ("POST", f"/run/{FLUX}"),
    ("POST", "/run/fal-ai/hidream-i1-fast/stream"),
    ("POST", "/rest/tokens/"),
    ("POST", "/rest/storage/auth/token?storage_type=fal-cdn-v3"),
]
BAD_HEADERS = [
    {},
    {"Authorization": "Key"},
    {"Authorization": "Key someone-else:secret"},
    {"Authorization": f"Bearer {KEY}"},
]


@pytest.mark.parametrize(("method", "path"), KEYED_ROUTES)
@pytest.mark.parametrize("headers", BAD_HEADERS, ids=["none", "empty", "wrong", "scheme"])
def test_api_routes_need_the_key(
    anon: httpx.Client, server: ServerURLs, method: str, path: str, headers: dict[str, str]
) -> None:
    response = anon.request(method, server.base + path, headers=headers, json={})

    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_public_routes_need_no_key(anon: httpx.Client, server: ServerURLs) -> None:
    for path in ("/", "/rest/.well-known/jwks.json", "/api/v1/models"):
        assert anon.get(server.base + path).status_code == 200, path


def test_unknown_paths_answer_in_json(anon: httpx.Client, server: ServerURLs) -> None:
    response = anon.get(server.base + "/nowhere")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.fixture
def server_logs() -> Iterator[list[str]]:
    """Every record the server's loggers emit, at DEBUG, while the test runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access", "falgen")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_keys_and_tokens_stay_out_of_the_logs(server: ServerURLs, server_logs: list[str]) -> None:
    with httpx.Client(headers=AUTH) as client:
        client.post(f"{server.run}/{FLUX}", json={"prompt": "logged?"})
        client.post(f"{server.queue}/{FLUX}", json={})
        token = client.post(
            f"{server.rest}/tokens/", json={"allowed_apps": ["fast-lcm-diffusion"]}
        ).json()
    with connect(
        f"{server.realtime}/fal-ai/fast-lcm-diffusion/realtime?fal_jwt_token={token}"
    ) as socket:
        socket.send(b"\x80")

    text = "\n".join(server_logs)
    assert "/run/fal-ai/flux-1/schnell" in text  # the access log did record the requests
    assert KEY not in text
    assert token not in text
