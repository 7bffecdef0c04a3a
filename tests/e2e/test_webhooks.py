"""Webhooks: fal POSTs the outcome to a receiver, which verifies the signature and parses it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from generator.server import Faults, ServerURLs
from tests.e2e.conftest import client_options


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, "no webhook arrived"
            time.sleep(0.01)
        return self.deliveries


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on loopback that records what it receives."""
    deliveries: list[Delivery] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            deliveries.append(Delivery(dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", deliveries)
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_is_delivered_signed_and_parses(
    client: Any, server: ServerURLs, receiver: Receiver
) -> None:
    from fal_models import WebhookPayload, fetch_jwks, verify_webhook
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    handle = client.flux_1_schnell.submit(prompt="a fox", seed=11, webhook_url=receiver.url)
    (delivery,) = receiver.wait()
    jwks = fetch_jwks(f"{server.rest}/.well-known/jwks.json")
    verify_webhook(delivery.headers, delivery.body, jwks)
    payload = client.flux_1_schnell.parse_webhook(delivery.body)
    assert isinstance(payload, WebhookPayload)
    assert payload.request_id == handle.request_id and payload.status == "OK"
    output = payload.output()
    assert isinstance(output, Flux1SchnellOutput) and output.seed == 11
    # The same, through the public generic model.
    typed = WebhookPayload[Flux1SchnellOutput].model_validate_json(delivery.body)
    assert typed.payload == output


def test_tampered_or_stale_webhooks_are_rejected(
    client: Any, server: ServerURLs, receiver: Receiver
) -> None:
    from fal_models import WebhookVerificationError, fetch_jwks, verify_webhook

    client.flux_1_schnell.submit(prompt="a fox", webhook_url=receiver.url)
    (delivery,) = receiver.wait()
    jwks = fetch_jwks(f"{server.rest}/.well-known/jwks.json")
    tampered = json.loads(delivery.body)
    tampered["payload"]["seed"] = 1
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify_webhook(delivery.headers, json.dumps(tampered).encode(), jwks)
    sent_at = int(delivery.headers["X-Fal-Webhook-Timestamp"])
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(delivery.headers, delivery.body, jwks, now=sent_at + 301)
    verify_webhook(delivery.headers, delivery.body, jwks, now=sent_at + 299)


def test_failed_request_webhook(serve: Callable[..., ServerURLs], receiver: Receiver) -> None:
    from fal_models import FalClient, RequestFailed

    urls = serve(faults=Faults(failure_rate=1.0))
    with FalClient(**client_options(urls)) as client:
        client.flux_1_schnell.submit(prompt="a fox", webhook_url=receiver.url)
        (delivery,) = receiver.wait()
        payload = client.flux_1_schnell.parse_webhook(delivery.body)
    assert payload.status == "ERROR" and payload.payload is None
    assert payload.error_payload["detail"] == "Simulated model failure"
    with pytest.raises(RequestFailed):
        payload.output()
