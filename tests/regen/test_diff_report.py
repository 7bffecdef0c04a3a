"""Diff reports (text, Markdown, JSON, changelog) and the ``falgen diff`` command."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator import diff
from generator.diff import (
    DiffReport,
    changelog_entry,
    diff_specs,
    render_json,
    render_markdown,
    render_text,
    use_color,
)
from tests.regen.support import BASE_ID, Document, base_spec, edited, prop, schemas, spec_for
from tests.regen.support import write_spec as write_spec_file


def _multi_change(doc: Document) -> None:
    """Several changes of every severity in one endpoint."""
    inputs = schemas(doc)["WidgetInput"]
    del inputs["properties"]["sync_mode"]
    inputs["x-fal-order-properties"].remove("sync_mode")
    inputs["properties"]["random_seed"] = inputs["properties"].pop("seed")
    inputs["x-fal-order-properties"][inputs["x-fal-order-properties"].index("seed")] = "random_seed"
    prop(doc, "WidgetInput", "num_images")["default"] = 2
    prop(doc, "WidgetInput", "output_format")["enum"].append("webp")
    prop(doc, "WidgetInput", "prompt")["description"] = "What to draw | how."
    prop(doc, "LoraWeight", "scale")["maximum"] = 2
    schemas(doc)["WidgetOutput"]["required"].remove("seed")
    schemas(doc)["WidgetOutput"]["properties"]["prompt"] = {"type": "string", "title": "Prompt"}
    doc["info"]["x-falgen-capabilities"] = ["streaming"]


def _report() -> DiffReport:
    old = {BASE_ID: base_spec(), "acme/legacy": spec_for("acme/legacy")}
    new = {BASE_ID: edited(_multi_change), "acme/gadget": spec_for("acme/gadget")}
    return diff_specs(old, new)


def test_text_report(snapshot: SnapshotAssertion) -> None:
    assert render_text(_report()) == snapshot


def test_markdown_report(snapshot: SnapshotAssertion) -> None:
    assert render_markdown(_report()) == snapshot


def test_json_report(snapshot: SnapshotAssertion) -> None:
    text = render_json(_report())
    assert json.loads(text)["semver_bump"] == "major"
    assert text == snapshot


def test_changelog_entry(snapshot: SnapshotAssertion) -> None:
    assert changelog_entry(_report(), "2.0.0", dt.date(2025, 3, 14)) == snapshot


def test_empty_reports() -> None:
    empty = DiffReport()
    assert render_text(empty) == "No API changes.\n"
    assert render_markdown(empty) == "## API changes\n\nNo API changes.\n"
    assert json.loads(render_json(empty)) == {
        "breaking": False,
        "semver_bump": None,
        "counts": {
            "breaking": 0,
            "behaviour": 0,
            "deprecation": 0,
            "addition": 0,
            "documentation": 0,
        },
        "endpoints": [],
        "changes": [],
    }
    assert (
        changelog_entry(empty, "1.0.1", "2025-03-14")
        == "## 1.0.1 (2025-03-14)\n\nNo API changes.\n"
    )


def test_text_report_breaking_first_within_each_endpoint() -> None:
    severities = [c.severity for c in _report().by_endpoint()[BASE_ID]]
    order = ["breaking", "behaviour", "addition", "documentation"]
    assert severities == sorted(severities, key=order.index)


def test_colour_only_when_asked() -> None:
    coloured = render_text(_report(), color=True)
    assert "\x1b[1;31mBREAKING " in coloured
    assert "\x1b[" not in render_text(_report(), color=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_follows_the_terminal_and_no_color() -> None:
    assert use_color(_Terminal(), {}) is True
    assert use_color(_Terminal(), {"NO_COLOR": "1"}) is False
    assert use_color(_Terminal(), {"NO_COLOR": ""}) is True  # empty means unset (no-color.org)
    assert use_color(io.StringIO(), {}) is False


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _run(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="falgen")
    diff.add_command(parser.add_subparsers())
    args = parser.parse_args(["diff", *argv])
    assert args.handler is diff.run
    out, err = io.StringIO(), io.StringIO()
    code = diff.run(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _spec_file(folder: Path, name: str, document: Document) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_cli_two_identical_files_exit_0(tmp_path: Path) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    new = _spec_file(tmp_path, "new.json", base_spec())
    assert _run(str(old), str(new)) == (0, "No API changes.\n", "")


def test_cli_additions_only_exit_0(tmp_path: Path) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    addition = edited(lambda doc: prop(doc, "WidgetInput", "num_images").update(maximum=8))
    new = _spec_file(tmp_path, "new.json", addition)
    code, out, _ = _run(str(old), str(new))
    assert code == 0
    assert "ADDED       input.num_images: maximum raised from <= 4 to <= 8" in out


def test_cli_breaking_changes_exit_1(tmp_path: Path) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    new = _spec_file(tmp_path, "new.json", edited(_multi_change))
    code, out, _ = _run(str(old), str(new), "--format", "json")
    assert code == 1
    assert json.loads(out)["breaking"] is True


def test_cli_behaviour_change_alone_exits_1(tmp_path: Path) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    changed = edited(lambda doc: prop(doc, "WidgetInput", "num_images").update(default=2))
    new = _spec_file(tmp_path, "new.json", changed)
    code, out, _ = _run(str(old), str(new), "--format", "markdown")
    assert code == 1
    assert ":warning: behaviour" in out


def test_cli_two_folders(tmp_path: Path) -> None:
    write_spec_file(tmp_path / "old", base_spec())
    write_spec_file(tmp_path / "new", edited(_multi_change))
    write_spec_file(tmp_path / "new", spec_for("acme/gadget"), "acme/gadget")
    code, out, _ = _run(str(tmp_path / "old"), str(tmp_path / "new"))
    assert code == 1
    assert out.startswith("acme/gadget\n  ADDED       endpoint added\n\nacme/widget\n")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="nothing"),
        pytest.param(["{old}"], id="one-path"),
        pytest.param(["{old}", "{tmp}/missing.json"], id="missing"),
        pytest.param(["{old}", "{tmp}"], id="file-and-folder"),
        pytest.param(["{old}", "{old}", "--against", "HEAD"], id="paths-and-against"),
    ],
)
def test_cli_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    code, out, err = _run(*(arg.format(old=old, tmp=tmp_path) for arg in argv))
    assert (code, out) == (2, "")
    assert err.startswith("falgen diff: error: ")


def test_cli_invalid_spec_exits_2_naming_the_file(tmp_path: Path) -> None:
    old = _spec_file(tmp_path, "old.json", base_spec())
    new = _spec_file(tmp_path, "new.json", edited(lambda doc: doc.pop("components")))
    code, out, err = _run(str(old), str(new))
    assert (code, out) == (2, "")
    assert f"{new}: #: 'components' is a required property" in err


def test_cli_unknown_format_is_an_argparse_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        _run("a", "b", "--format", "html")
    assert stopped.value.code == 2


# --------------------------------------------------------------------------------------------
# --against REV
# --------------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with specs/ committed once (base spec plus a second endpoint)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "repo"
    write_spec_file(root / "specs", base_spec())
    write_spec_file(root / "specs", spec_for("acme/gadget/v2"), "acme/gadget/v2")
    (root / "README.md").write_text("not a spec\n", encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v1")
    return root


def _git(root: Path, *argv: str) -> None:
    subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)


def test_against_head_without_changes(repo: Path) -> None:
    assert _run("--against", "HEAD", "--specs", str(repo / "specs")) == (0, "No API changes.\n", "")


def test_against_revision_reports_working_tree_changes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_spec_file(repo / "specs", edited(_multi_change))
    (repo / "specs" / "acme" / "gadget" / "v2.json").unlink()
    monkeypatch.chdir(repo / "specs" / "acme")  # the specs folder is found from anywhere
    code, out, err = _run("--against", "HEAD", "--specs", "..", "--format", "json")
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert report["endpoints"] == ["acme/gadget/v2", "acme/widget"]
    assert report["changes"][0] == {
        "endpoint_id": "acme/gadget/v2",
        "path": "",
        "kind": "endpoint-removed",
        "severity": "breaking",
        "message": "endpoint removed",
    }


def test_against_an_unknown_revision_exits_2(repo: Path) -> None:
    code, out, err = _run("--against", "no-such-branch", "--specs", str(repo / "specs"))
    assert (code, out) == (2, "")
    assert "unknown git revision 'no-such-branch'" in err


def test_against_a_revision_with_an_invalid_spec_names_it(repo: Path) -> None:
    (repo / "specs" / "acme" / "widget.json").write_text("{", encoding="utf-8")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "v2")
    write_spec_file(repo / "specs", base_spec())
    code, _, err = _run("--against", "HEAD", "--specs", str(repo / "specs"))
    assert code == 2
    assert "HEAD:specs/acme/widget.json: #: invalid JSON" in err


def test_against_refuses_a_revision_that_looks_like_an_option(repo: Path) -> None:
    code, _, err = _run(f"--against=--output={repo}/pwned", "--specs", str(repo / "specs"))
    assert code == 2
    assert "invalid git revision" in err
    assert not (repo / "pwned").exists()


def test_a_deprecation_is_its_own_section_and_a_minor_release() -> None:
    old = edited(lambda doc: doc["info"].update({"x-fal-catalog": {"status": "active"}}))
    new = edited(lambda doc: doc["info"].update({"x-fal-catalog": {"status": "deprecated"}}))
    report = diff_specs({BASE_ID: old}, {BASE_ID: new})
    assert not report.is_breaking
    assert report.semver_bump() == "minor"
    assert render_text(report) == (
        "acme/widget\n"
        "  DEPRECATED  status: endpoint deprecated: fal lists it as deprecated\n\n"
        "1 endpoint changed: 1 deprecation.\n"
        "Suggested version bump: minor.\n"
    )
    assert changelog_entry(report, "1.1.0", "2026-01-02") == (
        "## 1.1.0 (2026-01-02)\n\n### Deprecated\n\n"
        "- `acme/widget`: `status`: endpoint deprecated: fal lists it as deprecated\n"
    )


def test_names_from_specs_reach_the_terminal_escaped() -> None:
    hostile = "evil\x1b[2J\u202e"
    new = edited(
        lambda doc: schemas(doc)["WidgetInput"]["properties"].update({hostile: {"type": "string"}})
    )
    report = diff_specs({BASE_ID: base_spec()}, {BASE_ID: new})
    text = render_text(report, color=True)
    assert "\x1b[2J" not in text and "\u202e" not in text
    assert "input.evil\\x1b[2J\\u202e: new optional field (string)" in text
    markdown = render_markdown(report)
    assert "\x1b" not in markdown and "\u202e" not in markdown
    as_json = render_json(report)
    assert as_json.isascii() and "evil\\u001b[2J\\u202e" in as_json
    assert json.loads(as_json)["changes"][0]["path"] == f"input.{hostile}"


# --------------------------------------------------------------------------------------------
# Overlays: diff compares documents as they load, and says what an overlay changes
# --------------------------------------------------------------------------------------------

OVERLAY = """overlay: 1.0.0
info: {title: restore the output, version: 1.0.0}
actions:
  - target: $.components.schemas.WidgetOutput
    update:
      type: object
      properties:
        seed: {type: integer, title: Seed}
        prompt: {type: string, title: Prompt}
      required: [seed]
"""


def _empty_output(document: Document) -> None:
    schemas(document)["WidgetOutput"] = {}


def test_overlays_shows_what_each_overlay_changes(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    write_spec_file(specs, edited(_empty_output))
    write_spec_file(specs, spec_for("acme/gadget"), "acme/gadget")  # no overlay: not shown
    (specs / "acme" / "widget.overlay.yaml").write_text(OVERLAY, encoding="utf-8")
    code, out, err = _run("--overlays", "--specs", str(specs))
    assert (code, err) == (0, "")
    assert out == (
        "acme/widget\n"
        "  ADDED       output: narrowed from any value to object\n"
        "  ADDED       output.prompt: new field (string)\n"
        "  ADDED       output.seed: new field (integer)\n\n"
        "1 endpoint changed: 3 additions.\n"
        "Suggested version bump: minor.\n"
    )


def test_overlays_take_no_other_sides(tmp_path: Path) -> None:
    code, _, err = _run("--overlays", "--against", "HEAD")
    assert code == 2
    assert "--overlays compares the specs folder with itself" in err


def test_folders_are_compared_with_their_overlays(tmp_path: Path) -> None:
    write_spec_file(tmp_path / "old", edited(_empty_output))
    (tmp_path / "old" / "acme" / "widget.overlay.yaml").write_text(OVERLAY, encoding="utf-8")
    write_spec_file(tmp_path / "new", edited(_empty_output))
    (tmp_path / "new" / "acme" / "widget.overlay.yaml").write_text(
        OVERLAY.replace("      required: [seed]\n", ""), encoding="utf-8"
    )
    code, out, _ = _run(str(tmp_path / "old"), str(tmp_path / "new"))
    assert code == 1
    assert "BREAKING    output.seed: no longer required: may be missing" in out


def test_against_a_revision_applies_the_overlays_it_held(repo: Path) -> None:
    specs = repo / "specs"
    write_spec_file(specs, edited(_empty_output))
    (specs / "acme" / "widget.overlay.yaml").write_text(OVERLAY, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "v2")
    assert _run("--against", "HEAD", "--specs", str(specs)) == (0, "No API changes.\n", "")
    (specs / "acme" / "widget.overlay.yaml").write_text(
        OVERLAY.replace("prompt: {type: string", "prompt: {type: integer"), encoding="utf-8"
    )
    code, out, _ = _run("--against", "HEAD", "--specs", str(specs))
    assert code == 1
    assert "output.prompt: type changed from string to integer" in out


def test_a_stale_overlay_in_a_folder_is_named(tmp_path: Path) -> None:
    write_spec_file(tmp_path / "old", base_spec())
    write_spec_file(tmp_path / "new", base_spec())
    (tmp_path / "new" / "acme" / "widget.overlay.yaml").write_text(
        OVERLAY.replace("WidgetOutput", "Gone"), encoding="utf-8"
    )
    code, _, err = _run(str(tmp_path / "old"), str(tmp_path / "new"))
    assert code == 2
    assert f"{tmp_path / 'new'}/acme/widget.overlay.yaml: #/actions/0/target: " in err
