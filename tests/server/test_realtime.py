"""The realtime host: token, websocket handshake, msgpack and JSON framing, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgpack
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from generator.loader import SpecDocument
from generator.server import ServerURLs
from tests.server.support import AUTH, output_validator

REALTIME = "fal-ai/fast-lcm-diffusion"


def realtime_token(client: httpx.Client, urls: ServerURLs, apps: list[str]) -> str:
    response = client.post(
        f"{urls.rest}/tokens/", json={"allowed_apps": apps, "token_expiration": 120}
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert isinstance(token, str)
    return token


def open_socket(urls: ServerURLs, token: str, path: str = REALTIME) -> ClientConnection:
    return connect(f"{urls.realtime}/{path}/realtime?fal_jwt_token={token}", open_timeout=5)


def exchange_binary(socket: ClientConnection, message: dict[str, Any]) -> Any:
    socket.send(msgpack.packb(message))
    reply = socket.recv(timeout=5)
    assert isinstance(reply, bytes)
    return msgpack.unpackb(reply)


def test_msgpack_frames_get_msgpack_outputs(
    server: ServerURLs, client: httpx.Client, specs_by_id: dict[str, SpecDocument]
) -> None:
    token = realtime_token(client, server, ["fast-lcm-diffusion"])  # the official client's form
    validator = output_validator(specs_by_id[REALTIME])

    with open_socket(server, token) as socket:
        first = exchange_binary(socket, {"prompt": "a lighthouse", "seed": 1})
        second = exchange_binary(socket, {"prompt": "a harbour", "seed": 2})

    validator.validate(first)
    validator.validate(second)
    assert (first["prompt"], second["prompt"]) == ("a lighthouse", "a harbour")


def test_msgpack_inputs_may_carry_raw_bytes(server: ServerURLs, client: httpx.Client) -> None:
    token = realtime_token(client, server, [REALTIME])

    with open_socket(server, token) as socket:
        reply = exchange_binary(socket, {"prompt": "bytes", "negative_prompt": b"\x00\xff"})

    assert reply["prompt"] == "bytes"


def test_json_frames_get_json_outputs(
    server: ServerURLs, client: httpx.Client, specs_by_id: dict[str, SpecDocument]
) -> None:
    token = realtime_token(client, server, [REALTIME])

    with open_socket(server, token) as socket:
        socket.send(json.dumps({"prompt": "a kite"}))
        reply = socket.recv(timeout=5)

    assert isinstance(reply, str)
    output_validator(specs_by_id[REALTIME]).validate(json.loads(reply))


def test_bad_inputs_get_error_messages_and_the_connection_stays_open(
    server: ServerURLs, client: httpx.Client
) -> None:
    token = realtime_token(client, server, [REALTIME])

    with open_socket(server, token) as socket:
        invalid = exchange_binary(socket, {"num_images": 2})
        socket.send(b"\xc1")  # never valid msgpack
        undecodable = msgpack.unpackb(socket.recv(timeout=5, decode=False))
        socket.send("not json")
        text_error = json.loads(socket.recv(timeout=5))
        still_working = exchange_binary(socket, {"prompt": "ok"})

    assert invalid["type"] == "x-fal-error"
    assert invalid["error"] == "VALIDATION_ERROR"
    assert invalid["detail"][0]["loc"] == ["body", "prompt"]
    assert undecodable["type"] == text_error["type"] == "x-fal-error"
    assert undecodable["error"] == text_error["error"] == "INVALID_MESSAGE"
    assert still_working["prompt"] == "ok"


def test_the_key_header_also_authenticates(server: ServerURLs) -> None:
    url = f"{server.realtime}/{REALTIME}/realtime"
    with connect(url, additional_headers=AUTH, open_timeout=5) as socket:
        socket.send(json.dumps({"prompt": "keyed"}))
        assert json.loads(socket.recv(timeout=5))["prompt"] == "keyed"


@pytest.mark.parametrize(
    ("path", "token_apps", "status"),
    [
        (REALTIME, None, 401),  # no token at all
        (REALTIME, ["fal-ai/flux-1"], 401),  # a token for another app
        ("fal-ai/flux-1/schnell", ["fal-ai/flux-1"], 404),  # no realtime mode
    ],
)
def test_handshakes_are_refused_with_http_statuses(
    server: ServerURLs,
    client: httpx.Client,
    path: str,
    token_apps: list[str] | None,
    status: int,
) -> None:
    token = realtime_token(client, server, token_apps) if token_apps else "forged"

    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, token, path)

    assert refused.value.response.status_code == status


def test_token_requests_are_validated_and_need_the_key(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    malformed = client.post(
        f"{server.rest}/tokens/", json={"allowed_apps": [], "token_expiration": 0}
    )
    anonymous = anon.post(f"{server.rest}/tokens/", json={"allowed_apps": [REALTIME]})

    assert malformed.status_code == 422
    assert {tuple(item["loc"]) for item in malformed.json()["detail"]} == {
        ("body", "allowed_apps"),
        ("body", "token_expiration"),
    }
    assert anonymous.status_code == 401
