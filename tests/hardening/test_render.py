"""Hostile specs through the pure stages (loader, IR, models, templates; no formatting): the
files black would receive parse, and no spec string became code, markup or template output."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from generator.settings import Options
from tests.hardening.checks import check_tree, render_tree
from tests.hardening.strategies import EndpointSpec, spec_folders
from tests.helpers import write_spec

OPTIONS = Options(import_name="hostile_models", distribution="hostile-models")


def render(specs: list[EndpointSpec]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs:
            write_spec(Path(folder), spec.document)
        package, files = render_tree(Path(folder), OPTIONS)
    check_tree(package, files)


@given(spec_folders())
def test_hostile_specs_render_to_safe_files(specs: list[EndpointSpec]) -> None:
    render(specs)
