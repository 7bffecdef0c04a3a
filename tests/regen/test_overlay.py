"""OpenAPI Overlay files beside the specs: how they apply, how they fail, and that loading,
discovery and incremental generation see them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.errors import SpecErrors
from generator.loader import discover, load_specs, spec_digests
from generator.overlay import OverlayFile, apply_overlay, parse_overlay
from tests.regen.support import base_spec, prop, schemas, write_spec

HEADER = "overlay: 1.0.0\ninfo:\n  title: fixes\n  version: 1.0.0\nactions:\n"


def overlay(text: str, source: str = "acme/widget.overlay.yaml") -> OverlayFile:
    return OverlayFile(source, text.encode())


def applied(actions: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    result = apply_overlay(base_spec() if document is None else document, parse_overlay(
        overlay(HEADER + actions)
    ))  # fmt: skip
    assert not result.unmatched
    return result.document


def errors_of(text: str) -> list[str]:
    """What reading and applying the overlay reports: its own errors, else its unmatched
    targets (none at all fails the test: every caller expects some)."""
    try:
        result = apply_overlay(base_spec(), parse_overlay(overlay(text)))
    except SpecErrors as refused:
        return [str(error) for error in refused.errors]
    unmatched = [str(error) for error in result.unmatched_errors("acme/widget.json")]
    assert unmatched, "the overlay was read and applied without a problem"
    return unmatched


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def test_update_merges_objects_recursively_and_leaves_the_rest() -> None:
    document = applied(
        "  - target: $.components.schemas.WidgetInput.properties.num_images\n"
        "    update: {maximum: 8, description: Up to eight.}\n"
        "  - target: $\n"
        "    update: {info: {x-falgen-summary: Makes widgets.}}\n"
    )
    num_images = prop(document, "WidgetInput", "num_images")
    assert num_images["maximum"] == 8
    assert num_images["description"] == "Up to eight."
    assert num_images["minimum"] == 1  # untouched
    assert document["info"]["x-falgen-summary"] == "Makes widgets."
    assert document["info"]["title"] == base_spec()["info"]["title"]


def test_update_concatenates_arrays_and_appends_to_a_selected_array() -> None:
    document = applied(
        "  - target: $.components.schemas.WidgetOutput\n"
        "    update: {required: [has_nsfw_concepts]}\n"
        "  - target: $.components.schemas.WidgetInput.properties.output_format.enum\n"
        "    update: webp\n"
    )
    assert schemas(document)["WidgetOutput"]["required"] == [
        "images",
        "seed",
        "timings",
        "has_nsfw_concepts",
    ]
    assert prop(document, "WidgetInput", "output_format")["enum"] == ["jpeg", "png", "webp"]


def test_update_replaces_a_selected_primitive() -> None:
    document = applied(
        "  - target: $.components.schemas.WidgetInput.properties.prompt.maxLength\n"
        "    update: 2000\n"
    )
    assert prop(document, "WidgetInput", "prompt")["maxLength"] == 2000


def test_remove_takes_keys_and_filtered_array_items_away() -> None:
    document = applied(
        "  - target: $.components.schemas.WidgetInput.properties.sync_mode\n"
        "    remove: true\n"
        "  - target: $.components.schemas.WidgetInput['x-fal-order-properties'][?@ == 'seed' ||"
        " @ == 'sync_mode']\n"
        "    remove: true\n"
    )
    widget = schemas(document)["WidgetInput"]
    assert "sync_mode" not in widget["properties"]
    assert widget["x-fal-order-properties"] == [
        "prompt",
        "image_size",
        "num_images",
        "guidance_scale",
        "output_format",
        "loras",
    ]


def test_actions_apply_in_order_and_the_input_is_not_modified() -> None:
    original = base_spec()
    document = applied(
        "  - target: $.components.schemas.Image\n"
        "    remove: true\n"
        "  - target: $.components.schemas\n"
        "    update: {Image: {type: object, properties: {url: {type: string}}}}\n",
        original,
    )
    assert schemas(document)["Image"] == {
        "type": "object",
        "properties": {"url": {"type": "string"}},
    }
    assert original == base_spec()


# --------------------------------------------------------------------------------------------
# Problems point at the overlay file and the action
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            HEADER + "  - target: $.components.schemas.Gone\n    update: {title: x}\n",
            "acme/widget.overlay.yaml: #/actions/0/target: $.components.schemas.Gone selects "
            "nothing in acme/widget.json: update the overlay or remove the action",
            id="target-matches-nothing",
        ),
        pytest.param(
            HEADER + "  - target: $.components[\n    remove: true\n",
            "acme/widget.overlay.yaml: #/actions/0/target: invalid JSONPath: ",
            id="bad-jsonpath",
        ),
        pytest.param(
            HEADER + "  - target: $.info\n    update: [1]\n",
            "acme/widget.overlay.yaml: #/actions/0/update: the target is an object: "
            "the update must be one too",
            id="array-onto-object",
        ),
        pytest.param(
            HEADER + "  - target: $.info\n    update: {title: {nested: 1}}\n",
            "acme/widget.overlay.yaml: #/actions/0/update/title: cannot merge an object or array "
            "with another kind of value",
            id="object-onto-string",
        ),
        pytest.param(
            HEADER + "  - target: $\n    remove: true\n",
            "acme/widget.overlay.yaml: #/actions/0/target: cannot remove the document",
            id="remove-root",
        ),
        pytest.param(
            HEADER + "  - target: $.info\n",
            "acme/widget.overlay.yaml: #/actions/0: an action needs 'update' or 'remove: true'",
            id="no-modifier",
        ),
        pytest.param(
            "overlay: 2.0.0\ninfo: {title: t, version: '1'}\nactions: [{target: $, update: {}}]\n",
            "acme/widget.overlay.yaml: #/overlay: must be the Overlay Specification version",
            id="version",
        ),
        pytest.param(
            "overlay: 1.0.0\ninfo: {title: t, version: 2024-01-01}\nactions: []\n",
            "acme/widget.overlay.yaml: #/info/version: a date is not a JSON value (quote it)",
            id="yaml-date",
        ),
        pytest.param(
            "overlay: 1.0.0\ninfo: [\n",
            "acme/widget.overlay.yaml: #: invalid YAML at line 3 column 1",
            id="broken-yaml",
        ),
    ],
)
def test_a_bad_overlay_is_reported_at_its_file_and_action(text: str, expected: str) -> None:
    messages = errors_of(text)
    assert any(message.startswith(expected) for message in messages), messages


def test_yaml_aliases_cannot_blow_up() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
        f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n"
        for n in range(8)
    )
    [message] = errors_of(laughs)
    assert "values (YAML aliases expand)" in message


# --------------------------------------------------------------------------------------------
# Loading, discovery, generation
# --------------------------------------------------------------------------------------------


def _fixed_output(specs_dir: Path, name: str = "widget.overlay.yaml") -> Path:
    path = specs_dir / "acme" / name
    path.write_text(
        HEADER + "  - target: $.components.schemas.WidgetOutput.properties\n"
        "    update: {prompt: {type: string, title: Prompt}}\n",
        encoding="utf-8",
    )
    return path


def test_specs_load_with_their_overlay(specs_dir: Path) -> None:
    write_spec(specs_dir, base_spec())
    _fixed_output(specs_dir)
    [spec] = load_specs(specs_dir)
    assert spec.schemas["WidgetOutput"]["properties"]["prompt"] == {
        "type": "string",
        "title": "Prompt",
    }


def test_a_json_overlay_is_not_taken_for_a_spec(specs_dir: Path) -> None:
    write_spec(specs_dir, base_spec())
    overlay_path = specs_dir / "acme" / "widget.overlay.json"
    overlay_path.write_text(
        json.dumps(
            {
                "overlay": "1.0.0",
                "info": {"title": "t", "version": "1"},
                "actions": [{"target": "$.info", "update": {"x-falgen-summary": "From JSON."}}],
            }
        ),
        encoding="utf-8",
    )
    assert [path.name for path in discover(specs_dir)] == ["widget.json"]
    [spec] = load_specs(specs_dir)
    assert spec.document["info"]["x-falgen-summary"] == "From JSON."


def test_two_overlays_for_one_spec_and_an_overlay_without_spec_are_errors(
    specs_dir: Path,
) -> None:
    write_spec(specs_dir, base_spec())
    _fixed_output(specs_dir)
    _fixed_output(specs_dir, "widget.overlay.yml")
    _fixed_output(specs_dir, "gadget.overlay.yaml")
    with pytest.raises(SpecErrors) as caught:
        load_specs(specs_dir)
    assert [str(error) for error in caught.value.errors] == [  # by file
        "acme/gadget.overlay.yaml: #: no spec gadget.json beside it",
        "acme/widget.overlay.yml: #: acme/widget.overlay.yaml is an overlay for the same spec: "
        "keep one",
    ]


def test_a_problem_the_overlay_introduces_names_the_overlay(specs_dir: Path) -> None:
    write_spec(specs_dir, base_spec())
    (specs_dir / "acme" / "widget.overlay.yaml").write_text(
        HEADER + "  - target: $.components.schemas.WidgetOutput.properties.images.items\n"
        "    update: {$ref: '#/components/schemas/Nowhere'}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecErrors) as caught:
        load_specs(specs_dir)
    [error] = caught.value.errors
    assert str(error) == (
        "acme/widget.json: #/components/schemas/WidgetOutput/properties/images/items/$ref: "
        "dangling reference '#/components/schemas/Nowhere'; typed as Any (with "
        "acme/widget.overlay.yaml)"
    )


def test_an_overlay_change_regenerates(specs_dir: Path, tmp_path: Path) -> None:
    """The manifest's spec digests cover overlays: editing one is no 'up to date' no-op."""
    out = tmp_path / "generated"
    write_spec(specs_dir, base_spec())
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out)]) == 0
    before = spec_digests(specs_dir)
    _fixed_output(specs_dir)
    assert spec_digests(specs_dir) != before
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out), "--check"]) == 1
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out)]) == 0
    module = (out / "fal_models" / "endpoints" / "acme_widget.py").read_text(encoding="utf-8")
    assert "prompt: str | None = None" in module  # the output field the overlay adds
    (specs_dir / "acme" / "gadget.overlay.yaml").write_text(HEADER, encoding="utf-8")
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out), "--check"]) == 1


def test_generate_names_a_stale_overlay_and_keeps_the_output(
    specs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    write_spec(specs_dir, base_spec())
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out)]) == 0
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    (specs_dir / "acme" / "widget.overlay.yaml").write_text(
        HEADER + "  - target: $.components.schemas.Renamed\n    remove: true\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["generate", "--specs", str(specs_dir), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        "falgen: 1 problem in the specs:\n"
        "  acme/widget.overlay.yaml: #/actions/0/target: $.components.schemas.Renamed selects "
        "nothing in acme/widget.json: update the overlay or remove the action\n"
    )
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
