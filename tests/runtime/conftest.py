"""Unit tests of the generated package's runtime (imported from generated/), with
httpx.MockTransport standing in for the network."""

from __future__ import annotations

import pytest

KEY = "unit-key-a91d77e2c4b05f38"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries without waiting; the delays the client asked for are recorded."""
    from fal_models._runtime import _http

    asked: list[float] = []
    real = _http.backoff

    def instant(attempt: int, retry_after: float | None = None) -> float:
        asked.append(real(attempt, retry_after))
        return 0.0

    monkeypatch.setattr(_http, "backoff", instant)
    return asked
