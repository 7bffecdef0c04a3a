"""Tests of falgen fetch and falgen diff (regenerating bindings when models change)."""
