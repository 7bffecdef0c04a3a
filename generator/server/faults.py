"""Decide, reproducibly, which requests meet an injected fault.

Every route draws from its own generator seeded with the server seed and the route name, so the
n-th request to a route meets the same fault on every run regardless of traffic on other routes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from .config import Faults, Route

Failure = Literal["error", "rate_limit", "drop"]


@dataclass(frozen=True)
class Decision:
    """The faults one request meets: at most one failure, and possibly a delay first."""

    failure: Failure | None = None
    slow: bool = False


NO_FAULT = Decision()


class FaultInjector:
    """Draws fault decisions and counts what it injected."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self.seed = seed
        self.injected: Counter[str] = Counter()
        self._generators: dict[str, random.Random] = {}

    def reset(self) -> None:
        """Start every route's sequence again (tests reset between scenarios)."""
        self.injected.clear()
        self._generators.clear()

    def _draw(self, stream: str) -> float:
        generator = self._generators.get(stream)
        if generator is None:
            generator = self._generators[stream] = random.Random(f"{self.seed}/{stream}")
        return generator.random()

    def _within_limit(self) -> bool:
        limit = self.faults.limit
        return limit is None or sum(self.injected.values()) < limit

    def decide(self, route: Route) -> Decision:
        faults = self.faults
        if route not in faults.routes or not faults.active:
            return NO_FAULT
        # Both draws happen on every request so the sequence does not depend on the outcomes.
        failure_draw, slow_draw = self._draw(route), self._draw(route)
        failure: Failure | None = None
        choices: tuple[tuple[Failure, float], ...] = (
            ("error", faults.error_rate),
            ("rate_limit", faults.rate_limit_rate),
            ("drop", faults.drop_rate),
        )
        for kind, rate in choices:
            if failure_draw < rate:
                failure = kind
                break
            failure_draw -= rate
        slow = slow_draw < faults.slow_rate
        decision = Decision(
            failure=failure if failure and self._within_limit() else None,
            slow=slow and self._within_limit(),
        )
        if decision.failure:
            self.injected[decision.failure] += 1
        if decision.slow:
            self.injected["slow"] += 1
        return decision

    def model_fails(self) -> bool:
        """Whether the next simulated inference fails (``Faults.failure_rate``)."""
        if not self.faults.failure_rate:
            return False
        fails = self._draw("model") < self.faults.failure_rate and self._within_limit()
        if fails:
            self.injected["failure"] += 1
        return fails
