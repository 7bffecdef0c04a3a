"""Classification of each kind of change, one small edit of the base fixture per case."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from generator.diff import Change, DiffError, diff_specs
from tests.regen.support import BASE_ID, Document, base_spec, edited, prop, schemas

Edit = Callable[[Document], object]
Expected = set[tuple[str, str, str]]  # (path, kind, severity)


# --------------------------------------------------------------------------------------------
# Edits
# --------------------------------------------------------------------------------------------


def remove_field(component: str, name: str) -> Edit:
    def edit(doc: Document) -> None:
        schema = schemas(doc)[component]
        del schema["properties"][name]
        schema["x-fal-order-properties"].remove(name)
        if name in schema.get("required", []):
            schema["required"].remove(name)

    return edit


def add_field(component: str, name: str, node: dict[str, Any], *, required: bool = False) -> Edit:
    def edit(doc: Document) -> None:
        schema = schemas(doc)[component]
        schema["properties"][name] = node
        schema["x-fal-order-properties"].append(name)
        if required:
            schema.setdefault("required", []).append(name)

    return edit


def rename_field(component: str, old: str, new: str) -> Edit:
    def edit(doc: Document) -> None:
        schema = schemas(doc)[component]
        schema["properties"][new] = schema["properties"].pop(old)
        order = schema["x-fal-order-properties"]
        order[order.index(old)] = new

    return edit


def set_required(component: str, name: str, required: bool) -> Edit:
    def edit(doc: Document) -> None:
        names = schemas(doc)[component].setdefault("required", [])
        if required:
            names.append(name)
        else:
            names.remove(name)

    return edit


def update(component: str, name: str, **changes: Any) -> Edit:
    """Set (or, with the value ``DELETE``, remove) keywords of one property."""

    def edit(doc: Document) -> None:
        node = prop(doc, component, name)
        for key, value in changes.items():
            if value is DELETE:
                del node[key]
            else:
                node[key] = value

    return edit


def replace(component: str, name: str, node: dict[str, Any]) -> Edit:
    def edit(doc: Document) -> None:
        schemas(doc)[component]["properties"][name] = node

    return edit


def rename_component(old: str, new: str) -> Edit:
    def edit(doc: Document) -> None:
        text = json.dumps(doc).replace(
            f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"'
        )
        renamed = json.loads(text)
        renamed["components"]["schemas"][new] = renamed["components"]["schemas"].pop(old)
        doc.clear()
        doc.update(renamed)

    return edit


def info(**changes: Any) -> Edit:
    def edit(doc: Document) -> None:
        doc["info"].update(changes)

    return edit


def catalog(**metadata: Any) -> Edit:
    """Set keys of the endpoint's catalogue entry, ``info["x-fal-catalog"]``."""

    def edit(doc: Document) -> None:
        doc["info"].setdefault("x-fal-catalog", {}).update(metadata)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(doc: Document) -> None:
        for step in edits:
            step(doc)

    return edit


DELETE = object()
IN, OUT, LORA, SIZE, IMAGE = "WidgetInput", "WidgetOutput", "LoraWeight", "ImageSize", "Image"
STATUS_ENUM = {"title": "Status", "type": "string", "enum": ["ok", "filtered"]}


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    expected: Expected
    before: Edit | None = None  # applied to the old side too, when the base lacks something

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


B, H, A, D = "breaking", "behaviour", "addition", "documentation"

CASES = [
    # ---- inputs: fields ----------------------------------------------------------------------
    Case(
        "input-field-removed",
        remove_field(IN, "sync_mode"),
        {("input.sync_mode", "field-removed", B)},
    ),
    Case(
        "input-new-optional-field",
        add_field(IN, "negative_prompt", {"type": "string", "title": "Negative Prompt"}),
        {("input.negative_prompt", "field-added", A)},
    ),
    Case(
        "input-new-required-field",
        add_field(IN, "style", {"type": "string", "title": "Style"}, required=True),
        {("input.style", "field-added", B)},
    ),
    Case(
        "input-became-required",
        set_required(IN, "num_images", True),
        {("input.num_images", "became-required", B)},
    ),
    Case(
        "input-became-optional",
        set_required(IN, "prompt", False),
        {("input.prompt", "became-optional", A)},
    ),
    # ---- inputs: types -----------------------------------------------------------------------
    Case(
        "input-type-changed",
        update(IN, "num_images", type="string", minimum=DELETE, maximum=DELETE, default="1"),
        {("input.num_images", "type-changed", B), ("input.num_images", "default-changed", H)},
    ),
    Case(
        "input-type-narrowed",
        update(IN, "guidance_scale", type="integer", default=3),
        {
            ("input.guidance_scale", "type-changed", B),
            ("input.guidance_scale", "default-changed", H),
        },
    ),
    Case(
        "input-type-widened",
        update(IN, "num_images", type="number"),
        {("input.num_images", "type-changed", A)},
    ),
    Case(
        "input-no-longer-nullable",
        update(IN, "seed", anyOf=DELETE, type="integer"),
        {("input.seed", "type-changed", B)},
    ),
    Case(
        "input-now-accepts-null",
        update(IN, "num_images", type=DELETE, anyOf=[{"type": "integer"}, {"type": "null"}]),
        {("input.num_images", "type-changed", A)},
    ),
    Case(
        "input-union-alternative-dropped",
        update(IN, "image_size", anyOf=[{"$ref": "#/components/schemas/ImageSize"}]),
        {("input.image_size", "type-changed", B)},
    ),
    # ---- inputs: enums -----------------------------------------------------------------------
    Case(
        "input-enum-value-removed",
        update(IN, "output_format", enum=["jpeg"]),
        {("input.output_format", "enum-value-removed", B)},
    ),
    Case(
        "input-enum-value-added",
        update(IN, "output_format", enum=["jpeg", "png", "webp"]),
        {("input.output_format", "enum-value-added", A)},
    ),
    Case(
        "input-enum-in-union-value-removed",
        update(
            IN,
            "image_size",
            anyOf=[
                {"$ref": "#/components/schemas/ImageSize"},
                {"type": "string", "enum": ["square"]},
            ],
        ),
        {("input.image_size", "enum-value-removed", B)},
    ),
    Case(
        "input-enum-introduced",
        update(IN, "prompt", enum=["a red bicycle"]),
        {("input.prompt", "constraint-tightened", B)},
    ),
    # ---- inputs: constraints -----------------------------------------------------------------
    Case(
        "minimum-raised",
        update(IN, "num_images", minimum=2),
        {("input.num_images", "constraint-tightened", B)},
    ),
    Case(
        "maximum-lowered",
        update(IN, "num_images", maximum=2),
        {("input.num_images", "constraint-tightened", B)},
    ),
    Case(
        "minimum-added",
        update(IN, "seed", anyOf=[{"type": "integer", "minimum": 0}, {"type": "null"}]),
        {("input.seed", "constraint-tightened", B)},
    ),
    Case(
        "maximum-made-exclusive",
        update(IN, "guidance_scale", maximum=DELETE, exclusiveMaximum=20),
        {("input.guidance_scale", "constraint-tightened", B)},
    ),
    Case(
        "exclusive-minimum-made-inclusive",
        update(IN, "guidance_scale", exclusiveMinimum=DELETE, minimum=0),
        {("input.guidance_scale", "constraint-loosened", A)},
    ),
    Case(
        "maximum-raised",
        update(IN, "num_images", maximum=8),
        {("input.num_images", "constraint-loosened", A)},
    ),
    Case(
        "max-length-lowered",
        update(IN, "prompt", maxLength=500),
        {("input.prompt", "constraint-tightened", B)},
    ),
    Case(
        "max-length-removed",
        update(IN, "prompt", maxLength=DELETE),
        {("input.prompt", "constraint-loosened", A)},
    ),
    Case(
        "min-length-added",
        update(IN, "prompt", minLength=3),
        {("input.prompt", "constraint-tightened", B)},
    ),
    Case(
        "pattern-added",
        update(IN, "prompt", pattern="^[a-z ]+$"),
        {("input.prompt", "constraint-tightened", B)},
    ),
    Case(
        "max-items-added",
        update(IN, "loras", maxItems=3),
        {("input.loras", "constraint-tightened", B)},
    ),
    Case(
        "multiple-of-added",
        update(IN, "guidance_scale", multipleOf=0.5),
        {("input.guidance_scale", "constraint-tightened", B)},
    ),
    Case(
        "extra-keys-forbidden",
        lambda doc: schemas(doc)[IN].update(additionalProperties=False),
        {("input", "constraint-tightened", B)},
    ),
    # ---- inputs: nested objects --------------------------------------------------------------
    Case(
        "nested-array-item-maximum-lowered",
        update(LORA, "scale", maximum=2),
        {("input.loras[].scale", "constraint-tightened", B)},
    ),
    Case(
        "nested-array-item-new-required-field",
        add_field(LORA, "weight_name", {"type": "string"}, required=True),
        {("input.loras[].weight_name", "field-added", B)},
    ),
    Case(
        "nested-union-object-field-removed",
        remove_field(SIZE, "height"),
        {("input.image_size.height", "field-removed", B)},
    ),
    # ---- inputs: defaults (behaviour) --------------------------------------------------------
    Case(
        "default-changed",
        update(IN, "num_images", default=2),
        {("input.num_images", "default-changed", H)},
    ),
    Case(
        "default-removed",
        update(IN, "output_format", default=DELETE),
        {("input.output_format", "default-changed", H)},
    ),
    Case("default-added", update(IN, "seed", default=42), {("input.seed", "default-changed", H)}),
    Case(
        "nested-default-changed",
        update(LORA, "scale", default=0.8),
        {("input.loras[].scale", "default-changed", H)},
    ),
    Case(
        "default-true-is-not-1",
        update(IN, "sync_mode", default=0, type="integer"),
        {("input.sync_mode", "type-changed", B), ("input.sync_mode", "default-changed", H)},
    ),
    # ---- documentation -----------------------------------------------------------------------
    Case(
        "description-changed",
        update(IN, "prompt", description="What to draw."),
        {("input.prompt", "description-changed", D)},
    ),
    Case(
        "title-changed",
        update(IN, "prompt", title="Text Prompt"),
        {("input.prompt", "title-changed", D)},
    ),
    Case(
        "examples-changed",
        update(IN, "prompt", examples=["a blue bicycle"]),
        {("input.prompt", "examples-changed", D)},
    ),
    Case(
        "order-changed",
        lambda doc: schemas(doc)[IN]["x-fal-order-properties"].reverse(),
        {("input", "order-changed", D)},
    ),
    Case(
        "summary-changed",
        info(**{"x-falgen-summary": "Makes widgets, fast."}),
        {("summary", "metadata-changed", D)},
    ),
    Case(
        "category-changed",
        lambda doc: doc["info"]["x-fal-metadata"].update(category="x"),
        {("category", "metadata-changed", D)},
    ),
    # ---- the catalogue entry (info.x-fal-catalog) ---------------------------------------------
    Case(
        "endpoint-deprecated",
        catalog(status="deprecated"),
        {("status", "endpoint-deprecated", "deprecation")},
        before=catalog(status="active"),
    ),
    Case(
        "deprecated-without-a-previous-entry",
        catalog(status="deprecated"),
        {("status", "endpoint-deprecated", "deprecation")},
    ),
    Case(
        "fal-no-longer-publishes-it",
        info(**{"x-falgen-unpublished": True}),
        {("status", "endpoint-deprecated", "deprecation")},
    ),
    Case(
        "fal-publishes-it-again",
        lambda doc: doc["info"].pop("x-falgen-unpublished"),
        {("status", "metadata-changed", D)},
        before=info(**{"x-falgen-unpublished": True}),
    ),
    Case(
        "endpoint-active-again",
        catalog(status="active"),
        {("status", "metadata-changed", D)},
        before=catalog(status="deprecated"),
    ),
    Case(
        "catalogue-names-and-descriptions",
        catalog(display_name="Widget 2", description="Better widgets.", tags=["new"]),
        {
            ("display_name", "metadata-changed", D),
            ("description", "metadata-changed", D),
            ("tags", "metadata-changed", D),
        },
        before=catalog(display_name="Widget", description="Widgets.", tags=[]),
    ),
    Case(
        "catalogue-category-wins-over-the-documents",
        catalog(category="text-to-video"),
        {("category", "metadata-changed", D)},
    ),
    Case(
        "catalogue-category-equal-to-the-documents-is-no-change",
        catalog(category="text-to-image"),
        set(),
    ),
    # ---- outputs -----------------------------------------------------------------------------
    Case(
        "output-field-removed",
        remove_field(OUT, "has_nsfw_concepts"),
        {("output.has_nsfw_concepts", "field-removed", B)},
    ),
    Case(
        "output-field-no-longer-required",
        set_required(OUT, "seed", False),
        {("output.seed", "became-optional", B)},
    ),
    Case(
        "output-field-now-required",
        set_required(OUT, "has_nsfw_concepts", True),
        {("output.has_nsfw_concepts", "became-required", A)},
    ),
    Case(
        "output-new-field",
        add_field(OUT, "prompt", {"type": "string", "title": "Prompt"}),
        {("output.prompt", "field-added", A)},
    ),
    Case(
        "output-new-required-field-is-an-addition",
        add_field(OUT, "prompt", {"type": "string"}, required=True),
        {("output.prompt", "field-added", A)},
    ),
    Case(
        "output-may-now-be-null",
        update(OUT, "seed", type=DELETE, anyOf=[{"type": "integer"}, {"type": "null"}]),
        {("output.seed", "type-changed", B)},
    ),
    Case(
        "output-type-widened",
        update(OUT, "seed", type="number"),
        {("output.seed", "type-changed", B)},
    ),
    Case(
        "output-type-narrowed",
        update(OUT, "seed", type="integer"),
        {("output.seed", "type-changed", A)},
        before=update(OUT, "seed", type="number"),
    ),
    Case(
        "output-constraint-tightened",
        update(OUT, "seed", minimum=0),
        {("output.seed", "constraint-tightened", A)},
    ),
    Case(
        "output-constraint-loosened",
        update(IMAGE, "width", minimum=DELETE),
        {("output.images[].width", "constraint-loosened", A)},
        before=update(IMAGE, "width", minimum=1),
    ),
    Case(
        "output-nested-field-removed",
        remove_field(IMAGE, "url"),
        {("output.images[].url", "field-removed", B)},
    ),
    Case(
        "output-map-value-type-changed",
        update(OUT, "timings", additionalProperties={"type": "string"}),
        {("output.timings{}", "type-changed", B)},
    ),
    Case(
        "output-enum-value-added",
        update(OUT, "status", enum=["ok", "filtered", "error"]),
        {("output.status", "enum-value-added", A)},
        before=add_field(OUT, "status", STATUS_ENUM),
    ),
    Case(
        "output-enum-value-removed",
        update(OUT, "status", enum=["ok"]),
        {("output.status", "enum-value-removed", A)},
        before=add_field(OUT, "status", STATUS_ENUM),
    ),
    Case(
        "output-default-changed",
        update(IMAGE, "content_type", default="image/png"),
        {("output.images[].content_type", "default-changed", D)},
    ),
    # ---- metadata ----------------------------------------------------------------------------
    Case(
        "capability-removed",
        info(**{"x-falgen-capabilities": []}),
        {("capabilities", "capability-removed", B)},
        before=info(**{"x-falgen-capabilities": ["streaming"]}),
    ),
    Case(
        "capability-added",
        info(**{"x-falgen-capabilities": ["streaming", "realtime"]}),
        {("capabilities", "capability-added", A)},
        before=info(**{"x-falgen-capabilities": ["streaming"]}),
    ),
]

NO_CHANGE = [
    pytest.param(rename_component(LORA, "registry__LoraWeight"), id="shared-type-renamed"),
    pytest.param(
        both(
            rename_component(SIZE, "ImageSizeV2"),
            lambda doc: schemas(doc)["ImageSizeV2"].update(
                title="ImageSizeV2", description="Size."
            ),
        ),
        id="shared-type-renamed-with-new-title",
    ),
    pytest.param(rename_component(IN, "TextToImageInput"), id="input-component-renamed"),
    pytest.param(
        update(IN, "loras", items={"allOf": [{"$ref": "#/components/schemas/LoraWeight"}]}),
        id="ref-wrapped-in-allOf",
    ),
    pytest.param(
        update(IN, "prompt", description="  The prompt to generate\n   an image from.  "),
        id="description-whitespace",
    ),
    pytest.param(update(IN, "num_images", default=1.0), id="default-1-vs-1.0"),
    pytest.param(
        lambda doc: schemas(doc)[IN]["x-fal-order-properties"].append("ghost"),
        id="order-list-gains-unknown-name",
    ),
    pytest.param(
        lambda doc: schemas(doc)[OUT].update(additionalProperties=True),
        id="additionalProperties-true-is-the-default",
    ),
    pytest.param(
        update(IN, "guidance_scale", exclusiveMinimum=True, minimum=0),
        id="openapi-3.0-exclusive-minimum",
    ),
]


def _changes(old: Document, new: Document) -> list[Change]:
    return list(diff_specs({BASE_ID: old}, {BASE_ID: new}).changes)


@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_each_kind_of_change_is_classified(case: Case) -> None:
    old = edited(case.before) if case.before else base_spec()
    new = edited(case.edit, old)
    changes = _changes(old, new)
    assert {(c.path, c.kind.value, c.severity) for c in changes} == case.expected
    assert all(change.endpoint_id == BASE_ID and change.message for change in changes)


@pytest.mark.parametrize("edit", NO_CHANGE)
def test_equivalent_documents_have_no_changes(edit: Edit) -> None:
    assert _changes(base_spec(), edited(edit)) == []


def test_identical_documents_have_no_changes() -> None:
    report = diff_specs({BASE_ID: base_spec()}, {BASE_ID: base_spec()})
    assert report.changes == ()
    assert not report.is_breaking
    assert report.semver_bump() is None


def test_a_rename_is_reported_as_removed_and_added_with_a_hint() -> None:
    changes = _changes(base_spec(), edited(rename_field(IN, "seed", "random_seed")))
    assert [(c.path, c.kind.value, c.severity, c.message) for c in changes] == [
        ("input.seed", "field-removed", B, "field removed (renamed to random_seed?)"),
        (
            "input.random_seed",
            "field-added",
            A,
            "new optional field (integer | null) (renamed from seed?)",
        ),
    ]


def test_no_rename_hint_when_the_types_differ() -> None:
    edit = both(remove_field(IN, "seed"), add_field(IN, "style", {"type": "string"}))
    messages = {c.path: c.message for c in _changes(base_spec(), edited(edit))}
    assert messages == {
        "input.seed": "field removed",
        "input.style": "new optional field (string)",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (update(IN, "num_images", minimum=2), "minimum raised from >= 1 to >= 2"),
        (update(IN, "num_images", maximum=2), "maximum lowered from <= 4 to <= 2"),
        (
            update(IN, "guidance_scale", maximum=DELETE, exclusiveMaximum=20),
            "maximum made exclusive from <= 20 to < 20",
        ),
        (update(IN, "prompt", maxLength=500), "maxLength lowered from 1000 to 500"),
        (update(IN, "output_format", enum=["jpeg"]), 'enum value "png" removed'),
        (update(IN, "num_images", default=2), "default changed from 1 to 2"),
        (update(IN, "seed", anyOf=DELETE, type="integer"), "no longer accepts null"),
        (update(IN, "num_images", type="number"), "widened from integer to number"),
        (
            update(IN, "num_images", type="string", minimum=DELETE, maximum=DELETE),
            "type changed from integer to string",
        ),
    ],
)
def test_messages_say_what_changed(edit: Edit, message: str) -> None:
    assert message in [c.message for c in _changes(base_spec(), edited(edit))]


def test_endpoints_added_and_removed() -> None:
    report = diff_specs({"acme/old": base_spec()}, {"acme/new": base_spec()})
    assert [(c.endpoint_id, c.path, c.kind.value, c.severity) for c in report.changes] == [
        ("acme/new", "", "endpoint-added", A),
        ("acme/old", "", "endpoint-removed", B),
    ]


@pytest.mark.parametrize(
    ("severities", "bump", "breaking"),
    [
        ((), None, False),
        (("documentation",), "patch", False),
        (("documentation", "addition"), "minor", False),
        (("addition", "behaviour"), "major", True),
        (("breaking",), "major", True),
    ],
)
def test_semver_bump(severities: tuple[str, ...], bump: str | None, breaking: bool) -> None:
    edits = {
        "documentation": update(IN, "prompt", description="x"),
        "addition": update(IN, "num_images", maximum=8),
        "behaviour": update(IN, "num_images", default=2),
        "breaking": remove_field(IN, "sync_mode"),
    }
    new = edited(both(*(edits[s] for s in severities)))
    report = diff_specs({BASE_ID: base_spec()}, {BASE_ID: new})
    assert report.semver_bump() == bump
    assert report.is_breaking is breaking


def test_a_document_without_queue_paths_cannot_be_compared() -> None:
    broken = edited(lambda doc: doc.update(paths={}))
    with pytest.raises(DiffError, match="cannot find the input schema"):
        diff_specs({BASE_ID: base_spec()}, {BASE_ID: broken})


def test_reference_cycles_do_not_recurse_forever() -> None:
    def cyclic(doc: Document) -> None:
        schemas(doc)[LORA]["properties"]["children"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/LoraWeight"},
        }

    changes = _changes(edited(cyclic), edited(both(cyclic, update(LORA, "scale", maximum=2))))
    assert {(c.path, c.kind.value) for c in changes} == {
        ("input.loras[].scale", "constraint-tightened")
    }
