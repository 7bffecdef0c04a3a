"""How the server is reached: a host at the root path, TLS, a child process, and the clock its
completion times are taken on."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest

from generator.loader import SpecDocument
from generator.server import (
    ServerConfig,
    ServerURLs,
    running_server,
    server_process,
)
from generator.server.urls import root_path_to
from tests.server.support import AUTH, FLUX, SPECS_DIR, complete, stats


def test_root_paths_map_to_the_root_host_and_prefixed_paths_stay() -> None:
    assert root_path_to("queue", "/fal-ai/flux-1/schnell") == "/queue/fal-ai/flux-1/schnell"
    assert root_path_to("run", "/fal-ai/flux-1/schnell") == "/run/fal-ai/flux-1/schnell"
    for path in ("/", "/queue/fal-ai/x", "/run/fal-ai/x", "/_admin/stats", "/cdn", "/rest/x"):
        assert root_path_to("queue", path) == path
    assert root_path_to("queue", "/queued/x") == "/queue/queued/x"  # a prefix is a whole segment


def test_root_host_serves_the_queue_like_queue_fal_run(
    client: httpx.Client, specs: list[SpecDocument]
) -> None:
    """What fal-client does with FAL_QUEUE_RUN_HOST: submit to https://<host>/<endpoint id> and
    rebuild request URLs as https://<host>/<app>/requests/<id>."""
    with running_server(specs, ServerConfig(root_host="queue")) as urls:
        submitted = client.post(f"{urls.base}/{FLUX}", json={"prompt": "a fox"})
        assert submitted.status_code == 200, submitted.text
        body = submitted.json()
        assert body["status_url"].startswith(urls.queue + "/")  # links keep the prefix
        complete(client, body)
        by_root = client.get(f"{urls.base}/fal-ai/flux-1/requests/{body['request_id']}")
        by_prefix = client.get(body["response_url"])
        run = client.post(f"{urls.run}/{FLUX}", json={"prompt": "a fox"})
        index = client.get(urls.base + "/")
        counters = stats(client, urls)

    assert by_root.status_code == 200 and by_root.json() == by_prefix.json()
    assert run.status_code == 200
    assert index.json()["hosts"]["queue"] == urls.queue
    assert counters["submissions"] == {FLUX: 1}


def test_without_root_host_root_paths_are_not_found(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.base}/{FLUX}", json={"prompt": "a fox"})
    assert response.status_code in (404, 405)


def test_invalid_root_host_is_refused() -> None:
    with pytest.raises(ValueError, match="root_host"):
        ServerConfig(root_host="cdn-ish")  # type: ignore[arg-type]


def test_tls(specs: list[SpecDocument], certificates: tuple[Path, Path, Path]) -> None:
    ca, cert, key = certificates
    with running_server(specs, ssl_certfile=cert, ssl_keyfile=key) as urls:
        assert urls.base.startswith("https://127.0.0.1:")
        assert urls.realtime.startswith("wss://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(verify=trusted, headers=AUTH, timeout=10) as secure:
            body = secure.post(f"{urls.queue}/{FLUX}", json={"prompt": "a fox"}).json()
            assert body["status_url"].startswith("https://")
            assert complete(secure, body)["status"] == "COMPLETED"
        with httpx.Client(timeout=10) as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get(urls.base + "/")


def test_tls_needs_both_files(specs: list[SpecDocument], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both"), running_server(specs, ssl_certfile=tmp_path):
        pass


def test_server_process_and_the_completion_clock(client: httpx.Client) -> None:
    """A server in a child process records completion on a clock this process can compare with
    its own ``time.monotonic()``."""
    config = ServerConfig(queue_delay=0, progress_steps=0, root_host="queue")
    with server_process(SPECS_DIR, config) as urls:
        before = time.monotonic()
        body = client.post(f"{urls.base}/{FLUX}", json={"prompt": "a fox"}).json()
        complete(client, body)
        after = time.monotonic()
        record = stats(client, urls)["requests"][body["request_id"]]
    assert before <= record["completed_monotonic"] <= after
    assert record["completed_at"] == pytest.approx(time.time(), abs=60)
    with pytest.raises(httpx.TransportError):  # the child is gone with the block
        client.get(urls.admin + "/stats")


def test_server_process_reports_a_child_that_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exited"), server_process(tmp_path / "missing"):
        pass
