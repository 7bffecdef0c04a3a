"""API keys and the short-lived tokens fal issues for them.

Keys are compared and then forgotten: nothing here stores, logs or echoes one. Tokens (realtime and
CDN) are random strings remembered with their expiry and the apps they open.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection

KEY_SCHEME = "key"


class KeyChecker:
    """Checks ``Authorization: Key <key>`` against the accepted keys (any non-empty key if None)."""

    def __init__(self, accepted_keys: frozenset[str] | None) -> None:
        self._accepted = accepted_keys

    def problem(self, connection: HTTPConnection) -> str | None:
        """Why the connection is not authenticated, or None when it is."""
        header = connection.headers.get("authorization")
        if not header:
            return "Missing Authorization header; send 'Authorization: Key <your fal key>'"
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != KEY_SCHEME or not key:
            return "Invalid Authorization header; expected 'Key <your fal key>'"
        if self._accepted is not None and not any(
            hmac.compare_digest(key.encode(), accepted.encode()) for accepted in self._accepted
        ):
            return "Invalid API key"
        return None


@dataclass(frozen=True)
class Token:
    expires_at: float
    apps: frozenset[str]


class TokenStore:
    """Issued tokens: opaque, unguessable, valid until they expire."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def issue(self, ttl: float, apps: frozenset[str] = frozenset()) -> tuple[str, float]:
        """A new token valid for ``ttl`` seconds (for ``apps``, if any), and its expiry time."""
        now = time.time()
        self._tokens = {
            value: token for value, token in self._tokens.items() if token.expires_at > now
        }
        value = secrets.token_urlsafe(32)
        expires_at = now + ttl
        self._tokens[value] = Token(expires_at, apps)
        return value, expires_at

    def valid(self, value: str | None, app_names: tuple[str, ...] = ()) -> bool:
        """Whether ``value`` is a live token; with ``app_names``, one that allows any of them."""
        token = self._tokens.get(value or "")
        if token is None or token.expires_at <= time.time():
            return False
        return not app_names or bool(token.apps.intersection(app_names))

    def bearer_valid(self, connection: HTTPConnection) -> bool:
        """Whether the connection carries ``Authorization: Bearer <live token>``."""
        scheme, _, value = connection.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.valid(value.strip())
