"""``falgen update`` and ``falgen new`` end to end: a scripted fal server, a real specs folder and
output folder, the version bump and the changelog."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.output import compare_tree, read_tree
from generator.pipeline import generate_tree
from generator.specfile import normalise
from tests.regen.support import (
    BASE_ID,
    Reply,
    SpecServer,
    base_spec,
    edited,
    prop,
    schemas,
    spec_for,
    write_spec,
)

OTHER_ID = "acme/gadget"
DAY = "2026-03-04"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A specs folder with acme/widget at 0.4.2, and its generated output."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773014400")  # 2026-03-09
    specs, out = tmp_path / "specs", tmp_path / "generated"
    write_spec(specs, base_spec())
    (specs / "falgen.toml").write_text(
        '[package]\ndistribution = "acme-models"\nimport_name = "acme_models"\nversion = "0.4.2"\n',
        encoding="utf-8",
    )
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    return specs, out


def update(server: SpecServer, specs: Path, out: Path, *ids: str, command: str = "update") -> int:
    argv = [command, *ids, "--specs", str(specs), "--out", str(out)]
    return main([*argv, "--base-url", server.base_url])


def version(specs: Path) -> str:
    data = tomllib.loads((specs / "falgen.toml").read_text(encoding="utf-8"))
    found: str = data["package"]["version"]
    return found


def changelog(specs: Path) -> str:
    return (specs / "CHANGELOG.md").read_text(encoding="utf-8")


def spec_on_disk(specs: Path, endpoint_id: str = BASE_ID) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        specs.joinpath(*endpoint_id.split("/")).with_suffix(".json").read_text(encoding="utf-8")
    )
    return loaded


def assert_generated_from(specs: Path, out: Path) -> None:
    diff = compare_tree(out, generate_tree(specs))
    assert diff.clean, diff.summary()


def assert_up_to_date(specs: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The next ``falgen generate`` trusts the manifest the command wrote: nothing to do."""
    capsys.readouterr()
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"{out} is up to date\n"


def add_field(document: dict[str, Any]) -> None:
    schemas(document)["WidgetInput"]["properties"]["strength"] = {
        "type": "number",
        "default": 0.5,
        "description": "How strong.",
    }


@pytest.mark.parametrize(
    ("edit", "bump", "new_version", "section"),
    [
        (add_field, "minor", "0.5.0", "### Added"),
        (lambda doc: schemas(doc)["WidgetInput"]["properties"].pop("seed"), "major", "1.0.0",
         "### Breaking changes"),
        (lambda doc: prop(doc, "WidgetInput", "num_images").update(default=2), "major", "1.0.0",
         "### Behaviour changes"),
        (lambda doc: prop(doc, "WidgetInput", "prompt").update(description="Words."), "patch",
         "0.4.3", "### Documentation"),
    ],
    ids=["addition", "breaking", "behaviour", "documentation"],
)  # fmt: skip
def test_update_bumps_by_the_diff_writes_the_changelog_and_regenerates(
    spec_server: SpecServer,
    project: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    bump: str,
    new_version: str,
    section: str,
) -> None:
    specs, out = project
    spec_server.script(BASE_ID, Reply.json(edited(edit)))

    assert update(spec_server, specs, out) == 0

    printed = capsys.readouterr().out
    assert f"acme-models 0.4.2 -> {new_version} ({bump})" in printed
    assert version(specs) == new_version
    notes = changelog(specs)
    assert notes.startswith(f"# Changelog\n\n## {new_version} (2026-03-09)\n\n{section}\n")
    assert "`acme/widget`" in notes
    assert spec_on_disk(specs) == json.loads(normalise(edited(edit)))
    generated = read_tree(out)
    assert generated["CHANGELOG.md"].decode() == notes
    assert f'version = "{new_version}"' in generated["pyproject.toml"].decode()
    assert f'__version__ = "{new_version}"' in generated["acme_models/_version.py"].decode()
    assert_generated_from(specs, out)
    assert_up_to_date(specs, out, capsys)


def test_entries_are_prepended_release_after_release(
    spec_server: SpecServer, project: tuple[Path, Path]
) -> None:
    specs, out = project
    first = edited(add_field)
    second = edited(lambda doc: prop(doc, "WidgetInput", "prompt").update(description="W."), first)
    spec_server.script(BASE_ID, Reply.json(first), Reply.json(second))

    assert update(spec_server, specs, out) == 0
    assert update(spec_server, specs, out) == 0

    notes = changelog(specs)
    assert version(specs) == "0.5.1"
    assert notes.index("## 0.5.1") < notes.index("## 0.5.0")
    assert notes.count("# Changelog") == 1
    assert_generated_from(specs, out)


def test_no_change_releases_nothing(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    before = read_tree(out)
    spec_server.script(BASE_ID, Reply.json(base_spec()))

    assert update(spec_server, specs, out) == 0

    assert "No API changes." in capsys.readouterr().out
    assert version(specs) == "0.4.2"
    assert not (specs / "CHANGELOG.md").exists()
    assert read_tree(out) == before


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time: a rewrite with the same bytes shows too."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_failed_download_writes_nothing_at_all(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """One endpoint fails, another changed: no partial release (specs, version, changelog and
    generated/ all stay as they were), exit status 1."""
    specs, out = project
    write_spec(specs, spec_for(OTHER_ID), OTHER_ID)
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 0
    before_specs, before_out = _snapshot(specs), _snapshot(out)
    spec_server.script(BASE_ID, Reply.json(edited(add_field)))
    spec_server.script(OTHER_ID, Reply(status=200, body=b'{"openapi": "3.0', cut_at=10))

    assert update(spec_server, specs, out) == 1

    printed = capsys.readouterr().out
    assert f"failed    {OTHER_ID}" in printed
    assert "nothing written: 1 of 2 endpoints could not be updated" in printed
    assert _snapshot(specs) == before_specs
    assert _snapshot(out) == before_out


def test_the_only_endpoint_failing_is_no_claim_of_no_changes(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The rough edge: it printed "No API changes." and rewrote generated/."""
    specs, out = project
    before_specs, before_out = _snapshot(specs), _snapshot(out)
    spec_server.script(BASE_ID, Reply.json({"detail": "try later"}, status=503))

    assert update(spec_server, specs, out) == 1

    printed = capsys.readouterr().out
    assert "No API changes" not in printed
    assert "nothing written: 1 of 1 endpoints could not be updated" in printed
    assert _snapshot(specs) == before_specs
    assert _snapshot(out) == before_out


def test_a_spec_that_cannot_be_generated_changes_nothing(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """It passes the fetch's checks but the generator cannot type it, and the specs folder's
    settings make that fatal (``strict``): all or nothing."""
    specs, out = project
    settings = specs / "falgen.toml"
    settings.write_text(settings.read_text() + "\n[generate]\nstrict = true\n")
    before_specs, before_out = read_tree(specs), read_tree(out)
    untypable = edited(
        lambda doc: schemas(doc)["WidgetInput"]["properties"].update(
            mixed={"allOf": [{"$ref": "#/components/schemas/Image"}, {"type": "object"}]}
        )
    )
    spec_server.script(BASE_ID, Reply.json(untypable))

    assert update(spec_server, specs, out) == 1

    assert "allOf" in capsys.readouterr().err
    assert read_tree(specs) == before_specs
    assert read_tree(out) == before_out


def test_dry_run_reports_and_writes_nothing(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    before_specs, before_out = read_tree(specs), read_tree(out)
    spec_server.script(BASE_ID, Reply.json(edited(add_field)))

    assert main(["update", "--specs", str(specs), "--out", str(out), "--dry-run",
                 "--base-url", spec_server.base_url]) == 0  # fmt: skip

    printed = capsys.readouterr().out
    assert "input.strength" in printed and "0.4.2 -> 0.5.0" in printed
    assert "nothing written" in printed
    assert read_tree(specs) == before_specs
    assert read_tree(out) == before_out


def test_new_adds_an_endpoint_as_a_minor_release(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    spec_server.script(OTHER_ID, Reply.json(spec_for(OTHER_ID)))

    assert update(spec_server, specs, out, OTHER_ID, command="new") == 0

    assert spec_on_disk(specs, OTHER_ID)["info"]["x-fal-metadata"]["endpointId"] == OTHER_ID
    assert version(specs) == "0.5.0"
    assert "endpoint added" in changelog(specs)
    assert "acme_models/endpoints/acme_gadget.py" in read_tree(out)
    assert_generated_from(specs, out)
    assert_up_to_date(specs, out, capsys)


def test_update_takes_a_document_the_generator_works_around(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """fal publishes an empty Output: the spec is written and generated (the output untyped),
    the flaw is reported by the fetch and by the generation."""
    specs, out = project
    untyped = edited(lambda doc: schemas(doc).update(WidgetOutput={}))
    spec_server.script(BASE_ID, Reply.json(untyped))

    assert update(spec_server, specs, out) == 0

    printed = capsys.readouterr()
    flaw = "acme/widget.json: #/components/schemas/WidgetOutput: is empty; the output is untyped"
    assert f"    warning: degraded: {flaw}\n" in printed.out
    assert f"  degraded: {flaw}\n" in printed.err
    assert spec_on_disk(specs) == json.loads(normalise(untyped))
    assert version(specs) == "1.0.0"  # the output's fields are no longer known: breaking
    assert "### Breaking changes" in changelog(specs)
    assert_generated_from(specs, out)
    assert_up_to_date(specs, out, capsys)


def test_new_refuses_an_endpoint_already_there(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    assert update(spec_server, specs, out, BASE_ID, command="new") == 2
    assert "already in" in capsys.readouterr().err
    assert spec_server.requests == []


def test_invalid_settings_are_reported_with_file_and_pointer(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    before = read_tree(out)
    (specs / "falgen.toml").write_text(
        '[package]\nversion = "1.0"\nimport_name = "class"\ncolour = 1\n', encoding="utf-8"
    )
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "falgen.toml: #/package/version: '1.0' is not a MAJOR.MINOR.PATCH version" in err
    assert "falgen.toml: #/package/import_name: 'class' is not a valid Python package name" in err
    assert "falgen.toml: #/package: unknown keys ['colour']" in err
    assert read_tree(out) == before


def test_an_unpublished_endpoint_does_not_block_the_others(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = project
    write_spec(specs, spec_for(OTHER_ID), OTHER_ID)
    kept = spec_on_disk(specs, OTHER_ID)
    spec_server.script(BASE_ID, Reply.json(edited(add_field)))
    spec_server.script(OTHER_ID, Reply.json({"detail": "Not Found"}, status=404))

    assert update(spec_server, specs, out) == 0

    assert f"unpublished {OTHER_ID} (fal publishes it no longer: kept as it is)" in (
        capsys.readouterr().out
    )
    assert spec_on_disk(specs, OTHER_ID) == kept
    assert version(specs) == "0.5.0"
    assert_generated_from(specs, out)


def test_a_broken_spec_elsewhere_does_not_stop_an_update(
    spec_server: SpecServer, project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Generation skips a spec it cannot build; so does the update's diff, which compares only
    the endpoints it refreshed."""
    specs, out = project
    (specs / "acme" / "broken.json").write_text('{"openapi": "3.0.4"}', encoding="utf-8")
    spec_server.script(BASE_ID, Reply.json(edited(add_field)))

    assert update(spec_server, specs, out, BASE_ID) == 0

    printed = capsys.readouterr().out
    assert "acme-models 0.4.2 -> 0.5.0 (minor)" in printed
    assert version(specs) == "0.5.0"
    assert "acme/broken" not in changelog(specs)
