"""The optional replay guard of webhook verification: each request id is accepted once while a
copy of its delivery could still pass the timestamp check."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.runtime.test_webhooks import BODY, NOW, jwk, signed


def test_a_replayed_delivery_is_refused() -> None:
    from fal_models import WebhookReplayGuard, WebhookVerificationError, verify_webhook

    key, guard = Ed25519PrivateKey.generate(), WebhookReplayGuard()
    jwks = {"keys": [jwk(key)]}
    verify_webhook(signed(key), BODY, jwks, now=NOW, replay_guard=guard)

    with pytest.raises(WebhookVerificationError, match="already received"):
        verify_webhook(signed(key), BODY, jwks, now=NOW + 1, replay_guard=guard)
    # Without a guard the same copy passes: the replay window the guard closes.
    verify_webhook(signed(key), BODY, jwks, now=NOW + 1)


def test_a_forged_delivery_does_not_use_up_the_request_id() -> None:
    from fal_models import WebhookReplayGuard, WebhookVerificationError, verify_webhook

    key, guard = Ed25519PrivateKey.generate(), WebhookReplayGuard()
    forged = signed(Ed25519PrivateKey.generate())
    with pytest.raises(WebhookVerificationError, match="none of the keys"):
        verify_webhook(forged, BODY, [jwk(key)], now=NOW, replay_guard=guard)

    verify_webhook(signed(key), BODY, [jwk(key)], now=NOW, replay_guard=guard)


def test_ids_are_remembered_only_while_a_copy_could_pass_the_timestamp_check() -> None:
    from fal_models import WebhookReplayGuard, WebhookVerificationError, verify_webhook

    key, guard = Ed25519PrivateKey.generate(), WebhookReplayGuard()
    verify_webhook(signed(key), BODY, [jwk(key)], now=NOW, tolerance=60, replay_guard=guard)
    # A copy 61 s later fails the timestamp check by itself; the guard has let the id go, so a
    # new delivery for it (fal's later retry, newly signed) passes.
    with pytest.raises(WebhookVerificationError, match="off"):
        verify_webhook(signed(key), BODY, [jwk(key)], now=NOW + 61, tolerance=60)
    retry = signed(key, timestamp=NOW + 61)
    verify_webhook(retry, BODY, [jwk(key)], now=NOW + 61, tolerance=60, replay_guard=guard)


def test_forget_lets_fals_retry_through() -> None:
    from fal_models import WebhookReplayGuard, verify_webhook

    key, guard = Ed25519PrivateKey.generate(), WebhookReplayGuard()
    verify_webhook(signed(key), BODY, [jwk(key)], now=NOW, replay_guard=guard)
    guard.forget("r-1")  # the handler failed after verification: let fal's retry in

    retry = signed(key, timestamp=NOW + 5)
    verify_webhook(retry, BODY, [jwk(key)], now=NOW + 5, replay_guard=guard)


def test_concurrent_copies_pass_once() -> None:
    from fal_models import WebhookReplayGuard, WebhookVerificationError, verify_webhook

    key, guard = Ed25519PrivateKey.generate(), WebhookReplayGuard()
    headers, accepted = signed(key), []

    def receive() -> None:
        try:
            verify_webhook(headers, BODY, [jwk(key)], now=NOW, replay_guard=guard)
        except WebhookVerificationError:
            return
        accepted.append(True)

    threads = [threading.Thread(target=receive) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert accepted == [True]
