"""Hypothesis profiles for the hardening tests, chosen with ``FALGEN_HYPOTHESIS_PROFILE``.

* ``fast`` (the default): a small, derandomized run, the same examples on every run (CI
  included), that keeps this folder under a minute on two cores;
* ``hardening``: 10,000 examples per test of the pure stages and fresh randomness on every run,
  for the dedicated slow job (see the README).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "FALGEN_HYPOTHESIS_PROFILE"
EXAMPLES_VARIABLE = "FALGEN_HYPOTHESIS_EXAMPLES"
# Whole generations (black, imports) cost ~10x the pure stages: they get this share of examples.
PIPELINE_SHARE = 10

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("fast", max_examples=30, derandomize=True, database=None, **_COMMON)
settings.register_profile("hardening", max_examples=10_000, **_COMMON)


def load() -> None:
    """The profile named by ``FALGEN_HYPOTHESIS_PROFILE``; ``FALGEN_HYPOTHESIS_EXAMPLES``
    changes its number of examples (e.g. a short trial of the ``hardening`` profile)."""
    name = os.environ.get(PROFILE_VARIABLE, "fast")
    examples = os.environ.get(EXAMPLES_VARIABLE)
    if examples:
        parent = settings.get_profile(name)
        name = f"{name}-{examples}"
        settings.register_profile(name, parent=parent, max_examples=int(examples))
    settings.load_profile(name)


def pipeline_examples(minimum: int = 8) -> int:
    """How many examples a test running the whole pipeline gets under the loaded profile."""
    return max(minimum, settings.default.max_examples // PIPELINE_SHARE)
