"""Webhooks: the typed payload fal POSTs when a request submitted with ``webhook_url`` ends,
and verification of its signature.

fal signs each delivery with ED25519 over four lines: the request id, the user id, the
timestamp (the ``X-Fal-Webhook-*`` headers) and the hex SHA-256 of the body; its public keys are
published as a JWKS document. Verification needs ``cryptography`` (extra ``webhooks``).

Replays: a signed delivery stays valid while its timestamp is within ``tolerance`` (5 minutes by
default) of the receiver's clock, so whoever captured one can send it again within that window.
A :class:`WebhookReplayGuard` passed to :func:`verify_webhook` closes it: it accepts each request
id once, and remembers it exactly as long as the timestamp check would let a copy through.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import pydantic

from . import _errors

OutT = TypeVar("OutT", bound=pydantic.BaseModel)

JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
DEFAULT_TOLERANCE = 300.0  # seconds of clock difference accepted either way
REQUEST_ID_HEADER = "x-fal-webhook-request-id"
USER_ID_HEADER = "x-fal-webhook-user-id"
TIMESTAMP_HEADER = "x-fal-webhook-timestamp"
SIGNATURE_HEADER = "x-fal-webhook-signature"


class WebhookPayload(pydantic.BaseModel, Generic[OutT]):
    """What fal POSTs to a webhook: ``WebhookPayload[Flux1SchnellOutput].model_validate_json(body)``
    (or ``client.<endpoint>.parse_webhook(body)``).

    ``payload`` is the output when ``status`` is ``"OK"``; on ``"ERROR"`` the error body
    (e.g. validation details) is in ``error_payload`` and ``payload`` is None.
    """

    model_config = pydantic.ConfigDict(extra="allow")

    request_id: str
    gateway_request_id: str | None = None
    status: Literal["OK", "ERROR"]
    payload: OutT | None = None
    error: str | None = None
    payload_error: str | None = None
    error_payload: Any = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _error_payload(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("status") != "OK" and "payload" in data:
            data = {**data, "error_payload": data["payload"], "payload": None}
        return data

    def output(self) -> OutT:
        """The output; RequestFailed when the request failed or the payload was not delivered."""
        if self.status == "OK" and self.payload is not None:
            return self.payload
        message = self.error or self.payload_error or "the webhook carries no output"
        raise _errors.RequestFailed(message, request_id=self.request_id, body=self.error_payload)


class WebhookReplayGuard:
    """The request ids of the deliveries already accepted, each kept until a copy of its
    delivery would fail the timestamp check anyway (its timestamp plus the tolerance), so memory
    holds only the last few minutes of deliveries. Thread-safe; share one per receiving process.

    fal retries a delivery that the receiver did not accept, with the same request id: when your
    handler fails after :func:`verify_webhook` passed, call :meth:`forget` so the retry passes.
    """

    def __init__(self) -> None:
        self._until: dict[str, float] = {}  # request id -> when it may be forgotten
        # (until, request id), soonest first: what to forget is found without a scan. An entry
        # whose id was forgotten or remembered again meanwhile no longer matches and is skipped.
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def first_time(self, request_id: str, until: float, now: float) -> bool:
        """Remember ``request_id`` until ``until``; False when it is already remembered."""
        with self._lock:
            while self._expiries and self._expiries[0][0] <= now:
                end, expired = heapq.heappop(self._expiries)
                if self._until.get(expired) == end:
                    del self._until[expired]
            if request_id in self._until:
                return False
            self._until[request_id] = until
            heapq.heappush(self._expiries, (until, request_id))
            return True

    def forget(self, request_id: str) -> None:
        """Accept the next delivery for ``request_id`` again (e.g. fal's retry)."""
        with self._lock:
            self._until.pop(request_id, None)


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
    replay_guard: WebhookReplayGuard | None = None,
) -> None:
    """Check that a webhook delivery comes from fal; raise WebhookVerificationError if not.

    ``headers``: the request headers (any case); ``body``: the raw body bytes, exactly as
    received; ``jwks``: fal's JWKS document (``{"keys": [...]}``, see :func:`fetch_jwks`) or
    its list of keys; ``tolerance``: accepted age of the timestamp in seconds, either way;
    ``replay_guard``: refuse a second delivery for a request id already accepted (see
    :class:`WebhookReplayGuard`; without one, a captured delivery can be replayed while its
    timestamp is within ``tolerance``).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    values = [lowered.get(name, "").strip() for name in _SIGNED_HEADERS]
    missing = [name for name, value in zip(_SIGNED_HEADERS, values, strict=True) if not value]
    if missing:
        raise _errors.WebhookVerificationError(f"missing webhook headers: {', '.join(missing)}")
    request_id, user_id, timestamp, signature_hex = values
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise _errors.WebhookVerificationError("the webhook timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise _errors.WebhookVerificationError(
            f"the webhook timestamp is {int(current - sent_at)} s off (tolerance {tolerance} s)"
        )
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise _errors.WebhookVerificationError("the webhook signature is not hex") from None
    message = "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()
    if not any(_ed25519_valid(key, signature, message) for key in _public_keys(jwks)):
        raise _errors.WebhookVerificationError("the webhook signature matches none of the keys")
    # Only a genuine delivery is remembered: forged ones must not block the real one.
    if replay_guard is not None and not replay_guard.first_time(
        request_id, sent_at + tolerance, current
    ):
        raise _errors.WebhookVerificationError(
            f"the webhook for request {request_id} was already received (a replay)"
        )


def fetch_jwks(url: str = JWKS_URL, *, timeout: float = 10.0) -> dict[str, Any]:
    """fal's public webhook keys (cache them: they change rarely)."""
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as problem:
        raise _errors.APIConnectionError(f"cannot fetch webhook keys: {problem!r}") from None
    if not isinstance(data, dict):
        raise _errors.APIError("the JWKS document is not an object", body=data)
    return data


_SIGNED_HEADERS = (
    REQUEST_ID_HEADER,
    USER_ID_HEADER,
    TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
)


def _public_keys(jwks: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[bytes]:
    keys = jwks.get("keys", []) if isinstance(jwks, Mapping) else jwks
    result = []
    for key in keys:
        if not isinstance(key, Mapping) or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            continue
        encoded = str(key.get("x", ""))
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            result.append(raw)
    if not result:
        raise _errors.WebhookVerificationError("the JWKS holds no Ed25519 key")
    return result


def _ed25519_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise _errors.MissingDependencyError(
            "verifying webhooks needs the 'cryptography' package "
            "(install this package's 'webhooks' extra)"
        ) from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True
