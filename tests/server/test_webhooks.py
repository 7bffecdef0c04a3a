"""Webhooks: delivered to a local receiver, signed with the key the JWKS publishes."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from generator.loader import SpecDocument
from generator.server import Faults, ServerConfig, ServerURLs, running_server, signed_message
from tests.server.support import FLUX, output_validator, stats, wait_until

Delivery = tuple[dict[str, str], bytes]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Delivery]]]:
    """A loopback HTTP server that records every POST; yields its URL and the deliveries."""
    deliveries: list[Delivery] = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http_server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=http_server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http_server.server_address[1]}/hook", deliveries
    http_server.shutdown()
    http_server.server_close()
    thread.join()


def verify(jwks: dict[str, Any], headers: dict[str, str], body: bytes) -> None:
    """Check a delivery's signature as a receiver would; raises InvalidSignature when wrong."""
    (key,) = jwks["keys"]
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
    message = signed_message(
        headers["x-fal-webhook-request-id"],
        headers["x-fal-webhook-user-id"],
        headers["x-fal-webhook-timestamp"],
        body,
    )
    assert message.endswith(hashlib.sha256(body).hexdigest().encode())
    Ed25519PublicKey.from_public_bytes(raw).verify(
        bytes.fromhex(headers["x-fal-webhook-signature"]), message
    )


def submit_with_webhook(client: httpx.Client, urls: ServerURLs, hook: str, payload: Any) -> str:
    response = client.post(f"{urls.queue}/{FLUX}", params={"fal_webhook": hook}, json=payload)
    assert response.status_code == 200, response.text
    request_id: str = response.json()["request_id"]
    return request_id


def test_completed_requests_are_posted_signed(
    anon: httpx.Client,
    server: ServerURLs,
    client: httpx.Client,
    receiver: tuple[str, list[Delivery]],
    specs_by_id: dict[str, SpecDocument],
) -> None:
    hook, deliveries = receiver

    request_id = submit_with_webhook(client, server, hook, {"prompt": "hooked"})
    headers, body = wait_until(lambda: deliveries and deliveries[0])
    jwks = anon.get(f"{server.rest}/.well-known/jwks.json").json()

    verify(jwks, headers, body)
    payload = json.loads(body)
    assert payload["request_id"] == payload["gateway_request_id"] == request_id
    assert payload["status"] == "OK"
    output_validator(specs_by_id[FLUX]).validate(payload["payload"])
    assert headers["x-fal-webhook-request-id"] == request_id
    with pytest.raises(InvalidSignature):
        verify(jwks, headers, body.replace(b"hooked", b"forged"))
    record = wait_until(lambda: [w for w in stats(client, server)["webhooks"] if w["delivered_at"]])
    assert record[-1]["status_code"] == 200


def test_failed_requests_are_posted_as_errors(
    server: ServerURLs, client: httpx.Client, receiver: tuple[str, list[Delivery]]
) -> None:
    hook, deliveries = receiver

    submit_with_webhook(client, server, hook, {"num_images": 1})
    _, body = wait_until(lambda: deliveries and deliveries[0])

    payload = json.loads(body)
    assert payload["status"] == "ERROR"
    assert payload["error"] == "Invalid status code: 422"
    assert payload["payload"]["detail"][0]["loc"] == ["body", "prompt"]


def test_model_failures_are_posted_as_errors(
    client: httpx.Client, specs: list[SpecDocument], receiver: tuple[str, list[Delivery]]
) -> None:
    hook, deliveries = receiver
    config = ServerConfig(faults=Faults(failure_rate=1.0))
    with running_server(specs, config) as urls:
        request_id = submit_with_webhook(client, urls, hook, {"prompt": "doomed"})
        _, body = wait_until(lambda: deliveries and deliveries[0])
        result = client.get(f"{urls.queue}/fal-ai/flux-1/requests/{request_id}")

    assert json.loads(body)["error"] == "Invalid status code: 500"
    assert result.status_code == 500
    assert result.json()["error_type"] == "runner_server_error"


def test_webhooks_only_go_to_loopback_addresses(server: ServerURLs, client: httpx.Client) -> None:
    for hook in ("http://192.0.2.1/hook", "http://example.com/hook", "ftp://127.0.0.1/x"):
        response = client.post(f"{server.queue}/{FLUX}", params={"fal_webhook": hook}, json={})
        assert response.status_code == 400, hook
