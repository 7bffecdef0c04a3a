"""Webhook signature verification (with keys made here) and the typed payload."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

NOW = 1_750_000_000
BODY = json.dumps(
    {
        "request_id": "r-1",
        "gateway_request_id": "r-1",
        "status": "OK",
        "payload": {
            "images": [{"url": "https://cdn.test/a.png", "width": 8, "height": 8}],
            "timings": {},
            "seed": 4,
            "has_nsfw_concepts": [False],
            "prompt": "p",
        },
    }
).encode()


def jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def signed(key: Ed25519PrivateKey, body: bytes = BODY, timestamp: int = NOW) -> dict[str, str]:
    message = "\n".join(["r-1", "user-9", str(timestamp), hashlib.sha256(body).hexdigest()])
    return {
        "X-Fal-Webhook-Request-Id": "r-1",
        "X-Fal-Webhook-User-Id": "user-9",
        "X-Fal-Webhook-Timestamp": str(timestamp),
        "X-Fal-Webhook-Signature": key.sign(message.encode()).hex(),
    }


def test_valid_signature_passes_with_any_published_key() -> None:
    from fal_models import verify_webhook

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwks = {"keys": [{"kty": "RSA", "n": "x"}, jwk(other), jwk(key)]}
    verify_webhook(signed(key), BODY, jwks, now=NOW)
    lowercase = {name.lower(): value for name, value in signed(key).items()}
    verify_webhook(lowercase, BODY, [jwk(key)], now=NOW + 299)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, b: (h, b + b" "), "signature"),
        (lambda h, b: ({**h, "X-Fal-Webhook-User-Id": "someone"}, b), "signature"),
        (lambda h, b: ({**h, "X-Fal-Webhook-Signature": "zz"}, b), "not hex"),
        (lambda h, b: ({**h, "X-Fal-Webhook-Timestamp": "soon"}, b), "not a number"),
        (lambda h, b: ({k: v for k, v in h.items() if "Signature" not in k}, b), "missing"),
    ],
)
def test_tampering_is_detected(change: Any, message: str) -> None:
    from fal_models import WebhookVerificationError, verify_webhook

    key = Ed25519PrivateKey.generate()
    headers, body = change(signed(key), BODY)
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(headers, body, {"keys": [jwk(key)]}, now=NOW)


def test_wrong_key_and_stale_timestamps_fail() -> None:
    from fal_models import WebhookVerificationError, verify_webhook

    key = Ed25519PrivateKey.generate()
    stranger = {"keys": [jwk(Ed25519PrivateKey.generate())]}
    with pytest.raises(WebhookVerificationError, match="none of the keys"):
        verify_webhook(signed(key), BODY, stranger, now=NOW)
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(signed(key), BODY, {"keys": [jwk(key)]}, now=NOW + 301)
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(signed(key), BODY, {"keys": [jwk(key)]}, now=NOW - 10, tolerance=5)
    with pytest.raises(WebhookVerificationError, match="no Ed25519 key"):
        verify_webhook(signed(key), BODY, {"keys": []}, now=NOW)


def test_missing_cryptography_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from fal_models import MissingDependencyError, verify_webhook

    key = Ed25519PrivateKey.generate()
    monkeypatch.setitem(sys.modules, "cryptography.exceptions", None)
    with pytest.raises(MissingDependencyError, match="cryptography"):
        verify_webhook(signed(key), BODY, {"keys": [jwk(key)]}, now=NOW)


def test_payloads_parse_typed() -> None:
    from fal_models import FalClient, RequestFailed, WebhookPayload
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    with FalClient(key="k") as client:
        ok = client.flux_1_schnell.parse_webhook(BODY)
        from_dict = client.flux_1_schnell.parse_webhook(json.loads(BODY))
    assert isinstance(ok.payload, Flux1SchnellOutput) and ok.output().seed == 4
    assert from_dict == ok

    error = WebhookPayload[Flux1SchnellOutput].model_validate(
        {
            "request_id": "r-2",
            "status": "ERROR",
            "error": "Invalid status code: 422",
            "payload": {"detail": [{"loc": ["body", "prompt"], "msg": "required"}]},
        }
    )
    assert error.payload is None and error.error_payload["detail"][0]["msg"] == "required"
    with pytest.raises(RequestFailed, match="422") as failure:
        error.output()
    assert failure.value.request_id == "r-2"


def test_payload_errors_and_garbage() -> None:
    from fal_models import APIError, FalClient, RequestFailed

    with FalClient(key="k") as client:
        undelivered = client.flux_1_schnell.parse_webhook(
            {"request_id": "r-3", "status": "OK", "payload": None, "payload_error": "too big"}
        )
        with pytest.raises(RequestFailed, match="too big"):
            undelivered.output()
        with pytest.raises(APIError, match="webhook"):
            client.flux_1_schnell.parse_webhook(b"{}")
