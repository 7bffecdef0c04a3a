"""Hostile requests: deeply nested and oversized bodies, foreign Host headers (DNS rebinding),
and the admin controls (loopback callers with the server's token only)."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import msgpack
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from generator.loader import SpecDocument
from generator.server import ServerConfig, ServerURLs, create_app, running_server
from tests.server.support import AUTH, FLUX
from tests.server.test_realtime import REALTIME, exchange_binary, open_socket, realtime_token

DEEP = "[" * 100_000 + "]" * 100_000
DEEPISH = '{"prompt": "a fox", "x": ' + "[" * 500 + "]" * 500 + "}"  # parses; too deep to use


@pytest.mark.parametrize("body", [DEEP, DEEPISH], ids=["past-the-parser", "past-the-limit"])
@pytest.mark.parametrize("route", ["queue", "run"])
def test_deeply_nested_bodies_are_422_not_500(
    server: ServerURLs, client: httpx.Client, body: str, route: str
) -> None:
    response = client.post(
        f"{getattr(server, route)}/{FLUX}",
        content=body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body"] and "deep" in item["msg"]


def test_lone_surrogates_are_422_not_500(server: ServerURLs, client: httpx.Client) -> None:
    response = client.post(
        f"{server.run}/{FLUX}",
        content=b'{"prompt": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text


def test_deeply_nested_realtime_messages_get_an_error_message(
    server: ServerURLs, client: httpx.Client
) -> None:
    token = realtime_token(client, server, [REALTIME])
    with open_socket(server, token) as websocket:
        websocket.send(DEEP)
        too_deep = json.loads(websocket.recv(timeout=5))
        websocket.send(msgpack.packb({"prompt": "x", "x": json.loads(DEEPISH)["x"]}))
        too_deep_msgpack = msgpack.unpackb(websocket.recv(timeout=5))
        still_working = exchange_binary(websocket, {"prompt": "ok"})

    assert too_deep["error"] == too_deep_msgpack["error"] == "INVALID_MESSAGE"
    assert still_working["prompt"] == "ok"


def test_json_bodies_over_the_limit_are_413(
    specs: list[SpecDocument], client: httpx.Client
) -> None:
    config = ServerConfig(max_request_bytes=1000)
    with running_server(specs, config) as urls:
        small = client.post(f"{urls.run}/{FLUX}", json={"prompt": "x" * 900})
        large = client.post(f"{urls.run}/{FLUX}", json={"prompt": "x" * 1000})
        large_queue = client.post(f"{urls.queue}/{FLUX}", json={"prompt": "x" * 1000})

    assert small.status_code == 200
    assert large.status_code == large_queue.status_code == 413


def test_the_default_limit_refuses_a_body_far_larger_than_any_input(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.run}/{FLUX}", json={"prompt": "x" * (32 * 1024 * 1024)})

    assert response.status_code == 413


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: ServerURLs) -> None:
    """A Content-Length over the limit is answered at once, without reading the body."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            f"POST /run/{FLUX} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: {AUTH['Authorization']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10**12}\r\n\r\n".encode()
        )
        answer = connection.recv(65536).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused(
    server: ServerURLs, client: httpx.Client, host: str
) -> None:
    """A web page whose domain was rebound to 127.0.0.1 sends its own name as Host."""
    for url in (f"{server.run}/{FLUX}", f"{server.admin}/stats", server.models):
        response = client.request(
            "POST" if "/run/" in url else "GET",
            url,
            json={"prompt": "x"},
            headers={"Host": host, **server.admin_headers},
        )
        assert response.status_code == 400, (url, response.text)
        assert "Host" in response.json()["detail"]


def test_a_foreign_host_header_is_refused_for_websockets(
    server: ServerURLs, client: httpx.Client
) -> None:
    token = realtime_token(client, server, [REALTIME])
    host, port = server.base.removeprefix("http://").split(":")
    path = f"/realtime/{REALTIME}/realtime?fal_jwt_token={token}"
    with (
        socket.create_connection((host, int(port)), timeout=5) as connection,
        pytest.raises(InvalidStatus) as refused,
        # The socket goes to this server; the handshake names another host.
        connect(f"ws://evil.example:{port}{path}", sock=connection, open_timeout=5),
    ):
        pass
    with open_socket(server, token) as accepted:  # the same, by its own name
        assert exchange_binary(accepted, {"prompt": "ok"})["prompt"] == "ok"

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_loopback_names_are_accepted(server: ServerURLs, client: httpx.Client, host: str) -> None:
    port = server.base.rsplit(":", 1)[1]
    response = client.post(
        f"{server.run}/{FLUX}", json={"prompt": "x"}, headers={"Host": f"{host}:{port}"}
    )

    assert response.status_code == 200, response.text


def test_configured_names_are_accepted(specs: list[SpecDocument], client: httpx.Client) -> None:
    config = ServerConfig(allowed_hosts=frozenset({"falgen.test"}), public_url="http://pub.test")
    with running_server(specs, config) as urls:
        named = client.post(
            f"{urls.run}/{FLUX}", json={"prompt": "x"}, headers={"Host": "falgen.test"}
        )
        public = client.post(
            f"{urls.run}/{FLUX}", json={"prompt": "x"}, headers={"Host": "pub.test:80"}
        )
        other = client.post(f"{urls.run}/{FLUX}", json={"prompt": "x"}, headers={"Host": "x.test"})

    assert named.status_code == public.status_code == 200
    assert other.status_code == 400


def test_admin_needs_the_servers_token(server: ServerURLs, anon: httpx.Client) -> None:
    without = anon.get(f"{server.admin}/stats")
    wrong = anon.get(f"{server.admin}/stats", headers={"Authorization": "Bearer wrong"})
    key = anon.post(f"{server.admin}/reset", headers=AUTH)  # an API key is no admin token
    right = anon.get(f"{server.admin}/stats", headers=server.admin_headers)

    assert without.status_code == wrong.status_code == key.status_code == 401
    assert right.status_code == 200
    assert server.admin_token not in repr(server)


def test_admin_tokens_differ_between_servers() -> None:
    assert ServerConfig().admin_token != ServerConfig().admin_token


def test_admin_refuses_callers_from_other_machines(specs: list[SpecDocument]) -> None:
    """Even with the token: a server listening beyond loopback (--allow-remote) keeps its
    controls to its own machine."""
    config = ServerConfig()
    app = create_app(specs, config)
    token = {"Authorization": f"Bearer {config.admin_token}"}

    async def call(client_address: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return (await http.get("/_admin/stats", headers=token)).status_code

    assert asyncio.run(call("127.0.0.1")) == 200
    assert asyncio.run(call("192.0.2.7")) == 403
