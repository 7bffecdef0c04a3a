"""Signed webhook deliveries, as fal sends them when a queued request finishes.

The signature is ED25519 over ``request id, user id, timestamp, sha256(body)`` joined by newlines,
sent hex-encoded in ``X-Fal-Webhook-Signature``; the public key is published as a JWKS so receivers
verify exactly as they would against fal.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .stats import Stats, WebhookRecord
from .urls import is_loopback_name

logger = logging.getLogger("falgen.server")

DELIVERY_ATTEMPTS = 3
FIRST_RETRY_DELAY = 0.05
DELIVERY_TIMEOUT = 10.0


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """The bytes fal signs for a webhook."""
    return "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()


class WebhookSigner:
    """A key pair made at start-up; only its public half ever leaves the process."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self._public_x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": self._public_x,
                    "kid": self.key_id,
                    "use": "sig",
                    "alg": "EdDSA",
                }
            ]
        }

    def headers(self, request_id: str, user_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self._key.sign(signed_message(request_id, user_id, timestamp, body))
        return {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": user_id,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": signature.hex(),
        }


def webhook_body(request_id: str, status_code: int, body: Any) -> dict[str, Any]:
    """fal's webhook payload: the output when the request succeeded, else the error body."""
    if 200 <= status_code < 300:
        return {
            "request_id": request_id,
            "gateway_request_id": request_id,
            "status": "OK",
            "payload": body,
        }
    return {
        "request_id": request_id,
        "gateway_request_id": request_id,
        "status": "ERROR",
        "error": f"Invalid status code: {status_code}",
        "payload": body,
    }


def webhook_url_problem(url: str, allow_remote: bool) -> str | None:
    """Why the server will not call ``url``, or None. Only loopback targets unless allowed: a
    local development server must not be turned into a client of arbitrary hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "fal_webhook must be an absolute http(s) URL"
    if not allow_remote and not is_loopback_name(parts.hostname):
        return "fal_webhook must point at a loopback address (the server allows no other targets)"
    return None


class WebhookSender:
    """Delivers webhooks with a few retries and records every delivery in the stats."""

    def __init__(self, signer: WebhookSigner, user_id: str, stats: Stats) -> None:
        self.signer = signer
        self.user_id = user_id
        self.stats = stats

    async def deliver(self, url: str, request_id: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = self.signer.headers(request_id, self.user_id, body)
        record = WebhookRecord(request_id=request_id, url=url)
        self.stats.webhooks.append(record)
        delay = FIRST_RETRY_DELAY
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT) as client:
            for attempt in range(1, DELIVERY_ATTEMPTS + 1):
                record.attempts = attempt
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as problem:
                    record.error = f"{type(problem).__name__}: {problem}"
                else:
                    record.status_code = response.status_code
                    if response.is_success:
                        record.error = None
                        record.delivered_at = time.time()
                        return
                    record.error = f"HTTP {response.status_code}"
                if attempt < DELIVERY_ATTEMPTS:
                    await asyncio.sleep(delay)
                    delay *= 2
        logger.warning("webhook for request %s was not delivered: %s", request_id, record.error)
