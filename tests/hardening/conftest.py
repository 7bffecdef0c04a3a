"""Loads the hypothesis profile (see ``profiles.py``) before the test modules are imported."""

from tests.hardening import profiles

profiles.load()
