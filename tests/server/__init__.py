"""Tests of the local fal-compatible server (generator.server)."""
