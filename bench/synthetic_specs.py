"""Synthetic fal-style endpoint specs for the benchmarks: many endpoints, realistic variety.

The documents follow fal's published queue OpenAPI format (see ``specs/`` and the real documents
in ``../shared/realspecs``): the four queue paths, ``info.x-fal-metadata``, ``QueueStatus``, an
Input and an Output component, and the shared types (``Image``, ``File``, ``ImageSize``,
``LoraWeight``, ``VideoFile``, ...), with what those documents contain: ``anyOf`` of ``ImageSize``
and preset enums, nullable ``anyOf [X, {type: null}]``, ``allOf`` around one ``$ref``, enums such
as ``"16:9"`` and ``"5"``, arrays of objects, ``exclusiveMinimum``, ``format: binary``,
``examples``, object defaults, long indented descriptions and ``x-fal-order-properties``.

The same ``(count, seed)`` always gives the same bytes. Most endpoints use the canonical shared
types, so they end up in the generated ``shared`` module; a seeded share of endpoints uses a
drifted variant (same class name, different structure), which stays local to the endpoint.

    python -m bench.synthetic_specs OUT --count 1000 [--seed 0] [--force]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Schema = dict[str, Any]
MARKER = ".falgen-synth"  # marks a folder written here, so that --force may replace it
REF = "#/components/schemas/"

_WORD_TEXT = (
    "amber aurora basalt beacon birch canyon cedar cinder cobalt comet coral crystal dawn delta "
    "drift ember falcon fern flint frost garnet glacier harbor hazel helix indigo iris jade "
    "juniper kestrel lagoon lantern lotus lumen maple meadow mesa mirage nebula nova onyx orbit "
    "pebble pine prism quartz quill raven reef ridge sable sage sierra solstice spruce summit "
    "tidal topaz tundra umber vale velvet vertex willow zenith zephyr"
)
_WORDS = tuple(_WORD_TEXT.split())
_TASKS = {
    "text-to-image": ("text-to-image", "diffusion", "turbo", "pro", "lora", "xl", "lightning"),
    "image-to-image": ("image-to-image", "edit", "inpaint", "restyle", "relight", "colorize"),
    "upscale": ("upscale", "upscaler", "super-resolution", "enhance", "restore"),
    "background-removal": ("remove-background", "matting", "segment"),
    "image-to-video": ("image-to-video", "animate", "motion"),
    "text-to-video": ("text-to-video", "video", "cinematic"),
}
# (kind, weight, fal category)
_KINDS = (
    ("text-to-image", 34, "text-to-image"),
    ("image-to-image", 20, "image-to-image"),
    ("upscale", 12, "image-to-image"),
    ("background-removal", 6, "image-to-image"),
    ("image-to-video", 16, "image-to-video"),
    ("text-to-video", 12, "text-to-video"),
)
_SENTENCES = (
    "The prompt is interpreted by the model's text encoder before sampling starts.",
    "Higher values follow the prompt more closely at the cost of some variety.",
    "If `True`, the media will be returned as a data URI and the output data won't be "
    "available in the request history.",
    "The same seed and the same prompt given to the same version of the model will output "
    "the same image every time.",
    "This setting only applies when `upscale_mode` is `factor`.",
    'Values such as "16:9" or "9:16" are passed through unchanged.',
    "Leave it empty to let the model decide.",
    "Larger values take longer to run and may exceed the request timeout.",
    "See the model card for the list of supported styles.",
    "The URL must be publicly reachable, or a data URI of at most 10 MB.",
    "Only used for the first frame; later frames are conditioned on the previous ones.",
    "A value of 0 disables the effect entirely.",
)
_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aspect_ratio", ("16:9", "9:16", "4:3", "3:4", "1:1", "21:9", "9:21")),
    ("duration", ("5", "10")),
    ("output_format", ("jpeg", "png", "webp")),
    ("resolution", ("480p", "720p", "1080p")),
    ("target_resolution", ("720p", "1080p", "1440p", "2160p")),
    ("acceleration", ("none", "regular", "high")),
    ("safety_tolerance", ("1", "2", "3", "4", "5", "6")),
    ("style", ("auto", "General Use (Light 2K)", "realistic_image", "digital illustration")),
    ("upscale_mode", ("target", "factor")),
    ("light_type", ("midday", "blue hour light", "low-angle sunlight", "soft bokeh lighting")),
    ("camera_motion", ("static", "pan left", "pan right", "zoom in", "orbit")),
    ("scheduler", ("Euler", "DPM++ 2M", "DPM++ 2M Karras", "UniPC")),
    ("quality", ("standard", "high", "ultra")),
    ("video_write_mode", ("fast", "balanced", "small")),
)
_SIZE_PRESETS = (
    "square_hd",
    "square",
    "portrait_4_3",
    "portrait_16_9",
    "landscape_4_3",
    "landscape_16_9",
)
_QUEUE_STATUS: Schema = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
        "request_id": {"type": "string", "description": "The request id."},
        "response_url": {"type": "string", "description": "The response url."},
        "status_url": {"type": "string", "description": "The status url."},
        "cancel_url": {"type": "string", "description": "The cancel url."},
        "logs": {"type": "object", "description": "The logs.", "additionalProperties": True},
        "metrics": {"type": "object", "description": "The metrics.", "additionalProperties": True},
        "queue_position": {"type": "integer", "description": "The queue position."},
    },
    "required": ["status", "request_id"],
}


# --- shared types -----------------------------------------------------------------------------


def _obj(title: str, props: dict[str, Schema], required: Sequence[str], **extra: Any) -> Schema:
    """An object schema in fal's layout (order list first or last, as the real ones vary)."""
    return {
        "title": title,
        "type": "object",
        **extra,
        "properties": props,
        "x-fal-order-properties": list(props),
        "required": list(required),
    }


def _nullable(schema: Schema, **extra: Any) -> Schema:
    return {"anyOf": [schema, {"type": "null"}], **extra}


def _image_size() -> Schema:
    side = {"type": "integer", "maximum": 14142, "exclusiveMinimum": 0, "default": 512}
    return _obj(
        "ImageSize",
        {
            "width": {"title": "Width", "description": "The width of the generated image.", **side},
            "height": {
                "title": "Height",
                "description": "The height of the generated image.",
                **side,
            },
        },
        [],
    )


def _image(variant: int) -> Schema:
    if variant == 0:  # flux-style
        return _obj(
            "Image",
            {
                "url": {"title": "Url", "type": "string"},
                "width": {"title": "Width", "type": "integer"},
                "height": {"title": "Height", "type": "integer"},
                "content_type": {
                    "title": "Content Type",
                    "type": "string",
                    "default": "image/jpeg",
                },
            },
            ["url", "width", "height"],
        )
    # bria/seedvr-style: nullable metadata, examples, a description on the model itself
    return _obj(
        "Image",
        {
            "url": {
                "title": "Url",
                "type": "string",
                "description": "The URL where the file can be downloaded from.",
            },
            "content_type": _nullable(
                {"type": "string"},
                title="Content Type",
                examples=["image/png"],
                description="The mime type of the file.",
            ),
            "file_name": _nullable(
                {"type": "string"},
                title="File Name",
                examples=["z9RV14K95DvU.png"],
                description="The name of the file. It will be auto-generated if not provided.",
            ),
            "file_size": _nullable(
                {"type": "integer"},
                title="File Size",
                examples=[4404019],
                description="The size of the file in bytes.",
            ),
            "width": _nullable(
                {"type": "integer"},
                title="Width",
                examples=[1024],
                description="The width of the image in pixels.",
            ),
            "height": _nullable(
                {"type": "integer"},
                title="Height",
                examples=[1024],
                description="The height of the image in pixels.",
            ),
        },
        ["url"],
        description="Represents an image file.",
    )


def _file(title: str = "File") -> Schema:
    return _obj(
        title,
        {
            "url": {
                "title": "Url",
                "type": "string",
                "description": "The URL where the file can be downloaded from.",
            },
            "content_type": {
                "title": "Content Type",
                "type": "string",
                "examples": ["image/png"],
                "description": "The mime type of the file.",
            },
            "file_name": {
                "title": "File Name",
                "type": "string",
                "examples": ["z9RV14K95DvU.png"],
                "description": "The name of the file. It will be auto-generated if not provided.",
            },
            "file_size": {
                "title": "File Size",
                "type": "integer",
                "examples": [4404019],
                "description": "The size of the file in bytes.",
            },
            "file_data": {
                "title": "File Data",
                "type": "string",
                "format": "binary",
                "description": "File data",
            },
        },
        ["url"],
    )


def _video_file() -> Schema:
    schema = _file("VideoFile")
    for name, kind, text in (
        ("width", "integer", "The width of the video"),
        ("height", "integer", "The height of the video"),
        ("fps", "number", "The FPS of the video"),
        ("duration", "number", "The duration of the video"),
        ("num_frames", "integer", "The number of frames in the video"),
    ):
        schema["properties"][name] = _nullable({"type": kind}, title=_title(name), description=text)
    schema["x-fal-order-properties"] = list(schema["properties"])
    return schema


def _lora_weight() -> Schema:
    return _obj(
        "LoraWeight",
        {
            "path": {
                "title": "Path",
                "type": "string",
                "description": "URL or the path to the LoRA weights.",
            },
            "scale": {
                "title": "Scale",
                "type": "number",
                "minimum": 0,
                "maximum": 4,
                "default": 1,
                "description": _indented(
                    "The scale of the LoRA weight. This is used to scale the LoRA weight",
                    "before merging it with the base model.",
                ),
            },
        },
        ["path"],
    )


def _trajectory() -> Schema:
    return _obj(
        "Trajectory",
        {
            "x": {
                "title": "X",
                "type": "integer",
                "examples": [279],
                "description": "X coordinate of the motion trajectory",
            },
            "y": {
                "title": "Y",
                "type": "integer",
                "examples": [219],
                "description": "Y coordinate of the motion trajectory",
            },
        },
        ["x", "y"],
    )


def _dynamic_mask() -> Schema:
    return _obj(
        "DynamicMask",
        {
            "mask_url": {
                "title": "Mask Url",
                "type": "string",
                "examples": ["https://storage.googleapis.com/falserverless/kling/mask.png"],
                "description": "URL of the image for Dynamic Brush Application Area",
            },
            "trajectories": {
                "title": "Trajectories",
                "type": "array",
                "items": {"$ref": REF + "Trajectory"},
                "examples": [[{"x": 279, "y": 219}, {"x": 417, "y": 65}]],
                "description": "List of trajectories",
            },
        },
        ["mask_url"],
    )


def _control_net() -> Schema:
    return _obj(
        "ControlNet",
        {
            "path": {
                "title": "Path",
                "type": "string",
                "description": "URL or the path to the control net weights.",
            },
            "control_image_url": {
                "title": "Control Image Url",
                "type": "string",
                "description": "URL of the image to be used as the control image.",
            },
            "conditioning_scale": {
                "title": "Conditioning Scale",
                "type": "number",
                "minimum": 0,
                "maximum": 2,
                "default": 1,
            },
            "start_percentage": {
                "title": "Start Percentage",
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0,
            },
            "end_percentage": {
                "title": "End Percentage",
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 1,
            },
        },
        ["path", "control_image_url"],
    )


def _rgb_color() -> Schema:
    channel = {"type": "integer", "minimum": 0, "maximum": 255, "default": 0}
    return _obj(
        "RGBColor",
        {
            c: {"title": _title(c), "description": f"{c.title()} color value", **channel}
            for c in "rgb"
        },
        [],
    )


def _color_palette() -> Schema:
    return _obj(
        "ColorPalette",
        {
            "members": _nullable(
                {"type": "array", "items": {"$ref": REF + "RGBColor"}},
                title="Members",
                description="A list of color palette members that define the color palette",
            ),
            "name": _nullable(
                {
                    "type": "string",
                    "enum": ["EMBER", "FRESH", "JUNGLE", "MAGIC", "MELON", "MOSAIC", "PASTEL"],
                },
                title="Name",
                description="A color palette preset value",
            ),
        },
        [],
    )


def _camera_control() -> Schema:
    return _obj(
        "CameraControl",
        {
            "movement_type": {
                "title": "Movement Type",
                "type": "string",
                "enum": ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"],
                "description": "The type of camera movement",
            },
            "movement_value": {
                "title": "Movement Value",
                "type": "integer",
                "minimum": -10,
                "maximum": 10,
                "description": "The value of the camera movement",
            },
        },
        ["movement_type", "movement_value"],
    )


_SHARED: dict[str, Callable[[], Schema]] = {
    "ImageSize": _image_size,
    "Image": lambda: _image(0),
    "File": _file,
    "VideoFile": _video_file,
    "LoraWeight": _lora_weight,
    "Trajectory": _trajectory,
    "DynamicMask": _dynamic_mask,
    "ControlNet": _control_net,
    "RGBColor": _rgb_color,
    "ColorPalette": _color_palette,
    "CameraControl": _camera_control,
}


# --- one document -----------------------------------------------------------------------------


@dataclass
class _Spec:
    """Working state of one document."""

    rng: random.Random
    drift: float  # chance that a shared type used here is a drifted (local) variant
    image_variant: int
    schemas: dict[str, Schema] = field(default_factory=dict)

    def use(self, name: str) -> str:
        """Add a shared type (and what it references) to the document; its ``$ref``."""
        if name not in self.schemas:
            schema = _SHARED[name]() if name != "Image" else _image(self.image_variant)
            if self.rng.random() < self.drift:
                schema = _drifted(self.rng, schema)
            self.schemas[name] = schema
            for target in re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schema)):
                self.use(target)
        return REF + name


def _drifted(rng: random.Random, schema: Schema) -> Schema:
    """The same type as an endpoint's own variant: one description or field changed."""
    schema = copy.deepcopy(schema)
    props = schema["properties"]
    if rng.random() < 0.5:
        name = rng.choice(sorted(props))
        props[name] = {**props[name], "description": _sentences(rng, 1)}
    else:
        extra = f"{rng.choice(_WORDS)}_hint"
        props[extra] = {"title": _title(extra), "type": "string", "description": "Extra hint."}
        schema["x-fal-order-properties"].append(extra)
    return schema


def _title(name: str) -> str:
    return " ".join(word.capitalize() for word in name.split("_"))


def _indented(*lines: str) -> str:
    """fal's descriptions copied from Python docstrings: leading newline, deep indentation."""
    return "".join(f"\n            {line}" for line in lines) + "\n        "


def _sentences(rng: random.Random, count: int) -> str:
    return " ".join(rng.sample(_SENTENCES, count))


def _description(rng: random.Random, subject: str) -> str:
    roll = rng.random()
    if roll < 0.55:
        return f"The {subject}."
    if roll < 0.85:
        return f"The {subject}. {_sentences(rng, rng.randint(1, 3))}"
    return _indented(f"The {subject}.", *rng.sample(_SENTENCES, rng.randint(2, 4)))


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _url(rng: random.Random, kind: str) -> str:
    token = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in range(12)
    )
    return f"https://storage.googleapis.com/falserverless/example_inputs/{token}.{kind}"


# Field makers: (document state, field name) -> schema. Named fields first, then generic ones.
_Maker = Callable[[_Spec, str], Schema]


def _prompt(spec: _Spec, name: str) -> Schema:
    schema: Schema = {
        "title": _title(name),
        "type": "string",
        "examples": [
            'Extreme close-up of a single tiger eye, direct frontal view. The word "FLUX" is '
            "painted over it in big, white brush strokes with visible texture."
        ],
        "description": "The prompt to generate an image from.",
    }
    if spec.rng.random() < 0.4:
        schema["maxLength"] = spec.rng.choice((1000, 2500, 5000))
    if spec.rng.random() < 0.2:
        schema["minLength"] = 3
    return schema


def _negative_prompt(spec: _Spec, name: str) -> Schema:
    return {
        "title": _title(name),
        "type": "string",
        "default": spec.rng.choice(("", "blur, distort, and low quality")),
        "description": _description(spec.rng, "negative prompt to steer the generation away"),
    }


def _image_size_field(spec: _Spec, name: str) -> Schema:
    presets = list(_SIZE_PRESETS) + (["auto", "auto_2K"] if spec.rng.random() < 0.2 else [])
    schema: Schema = {
        "anyOf": [{"$ref": spec.use("ImageSize")}, {"enum": presets, "type": "string"}],
        "title": "Image Size",
        "description": "The size of the generated image.",
    }
    if spec.rng.random() < 0.25:  # an object default, as in seedream and sote-diffusion
        size = {"height": spec.rng.choice((1024, 1536, 2048)), "width": 1024}
        schema["examples"] = [size]
        schema["default"] = size
    else:
        schema["default"] = spec.rng.choice(("landscape_4_3", "square_hd"))
    return schema


def _url_field(spec: _Spec, name: str) -> Schema:
    schema: Schema = {
        "title": _title(name),
        "type": "string",
        "description": _description(spec.rng, name.replace("_", " ").removesuffix(" url") + " URL"),
    }
    if spec.rng.random() < 0.7:
        schema["examples"] = [_url(spec.rng, "png")]
    if spec.rng.random() < 0.15:
        schema["x-fal"] = {"timeout": 20, "max_file_size": 104857600}
        schema["limit_description"] = "Max file size: 100.0MB, Timeout: 20.0s"
    return schema


def _url_list(spec: _Spec, name: str) -> Schema:
    return {
        "title": _title(name),
        "type": "array",
        "items": {"type": "string"},
        "examples": [[_url(spec.rng, "png"), _url(spec.rng, "jpg")]],
        "description": _description(spec.rng, "list of input image URLs"),
    }


def _seed(spec: _Spec, name: str) -> Schema:
    text = _indented(
        "The same seed and the same prompt given to the same version of the model",
        "will output the same image every time.",
    )
    if spec.rng.random() < 0.5:
        return {"title": "Seed", "type": "integer", "description": text}
    return _nullable({"type": "integer"}, title="Seed", description=text)


def _bool(spec: _Spec, name: str) -> Schema:
    return {
        "title": _title(name),
        "type": "boolean",
        "default": spec.rng.random() < 0.5,
        "description": _description(spec.rng, f"{name.replace('_', ' ')} switch"),
    }


def _int_range(low: int, high: int, default: int) -> _Maker:
    def make(spec: _Spec, name: str) -> Schema:
        return {
            "title": _title(name),
            "type": "integer",
            "minimum": low,
            "maximum": high,
            "default": default,
            "description": _description(spec.rng, name.replace("_", " ")),
        }

    return make


def _number_range(low: float, high: float, default: float) -> _Maker:
    def make(spec: _Spec, name: str) -> Schema:
        schema: Schema = {
            "title": _title(name),
            "type": "number",
            "maximum": high,
            "default": default,
            "description": _description(spec.rng, name.replace("_", " ")),
        }
        if low == 0 and spec.rng.random() < 0.3:
            schema["exclusiveMinimum"] = 0
        else:
            schema["minimum"] = low
        if spec.rng.random() < 0.15:
            schema["multipleOf"] = 0.001
        return schema

    return make


def _enum(values: Sequence[str]) -> _Maker:
    def make(spec: _Spec, name: str) -> Schema:
        kept = list(values[: spec.rng.randint(2, len(values))])
        enum: Schema = {"enum": kept, "type": "string"}
        text = _description(spec.rng, name.replace("_", " "))
        if spec.rng.random() < 0.2:  # fal's nullable enum: anyOf [enum, null]
            return _nullable(enum, title=_title(name), examples=[kept[0]], description=text)
        return {
            **enum,
            "title": _title(name),
            "description": text,
            "default": spec.rng.choice(kept),
        }

    return make


def _loras(spec: _Spec, name: str) -> Schema:
    return {
        "title": "Loras",
        "type": "array",
        "items": {"$ref": spec.use("LoraWeight")},
        "examples": [],
        "default": [],
        "description": _indented(
            "The LoRAs to use for the image generation. You can use any number of LoRAs",
            "and they will be merged together to generate the final image.",
        ),
    }


def _ref_list(type_name: str, subject: str) -> _Maker:
    def make(spec: _Spec, name: str) -> Schema:
        return {
            "title": _title(name),
            "type": "array",
            "items": {"$ref": spec.use(type_name)},
            "description": _description(spec.rng, subject),
        }

    return make


def _wrapped_ref(type_name: str, subject: str) -> _Maker:
    """pydantic's way of attaching a description to a reference: ``allOf: [one $ref]``."""

    def make(spec: _Spec, name: str) -> Schema:
        schema: Schema = {
            "title": _title(name),
            "description": _description(spec.rng, subject),
            "allOf": [{"$ref": spec.use(type_name)}],
        }
        if type_name == "CameraControl" and spec.rng.random() < 0.5:
            schema["default"] = {"movement_type": "zoom", "movement_value": 1}
        if spec.rng.random() < 0.3:  # optional and nullable instead
            return _nullable(
                {"$ref": spec.use(type_name)},
                title=schema["title"],
                description=schema["description"],
            )
        return schema

    return make


def _mapping(spec: _Spec, name: str) -> Schema:
    return {
        "title": _title(name),
        "type": "object",
        "additionalProperties": spec.rng.choice((True, {"type": "number"}, {"type": "string"})),
        "description": _description(spec.rng, f"{name.replace('_', ' ')} mapping"),
    }


_NAMED: dict[str, _Maker] = {
    "negative_prompt": _negative_prompt,
    "num_images": _int_range(1, 4, 1),
    "num_inference_steps": _int_range(1, 50, 28),
    "guidance_scale": _number_range(0, 20, 3.5),
    "seed": _seed,
    "sync_mode": _bool,
    "enable_safety_checker": _bool,
    "enable_prompt_expansion": _bool,
    "loras": _loras,
    "strength": _number_range(0, 1, 0.85),
    "mask_url": _url_field,
    "reference_image_urls": _url_list,
    "controlnets": _ref_list("ControlNet", "controlnets to condition the generation on"),
    "color_palette": _wrapped_ref("ColorPalette", "color palette to use"),
    "camera_control": _wrapped_ref("CameraControl", "camera movement of the video"),
    "dynamic_masks": _ref_list("DynamicMask", "list of dynamic masks"),
    "cfg_scale": _number_range(0, 1, 0.5),
    "num_frames": _int_range(16, 161, 81),
    "frames_per_second": _int_range(4, 60, 16),
    "shift": _number_range(1, 10, 5),
    "creativity": _number_range(0, 10, 0),
    "noise_scale": _number_range(0, 1, 0.1),
    "extra_options": _mapping,
}
_NAMED |= {name: _enum(values) for name, values in _ENUMS}
_GENERIC_KINDS = ("string", "integer", "number", "boolean", "nullable", "enum", "list", "object")


def _generic(spec: _Spec, name: str, owner: str) -> Schema:
    """A field of random shape; ``object`` adds an endpoint-specific model."""
    rng = spec.rng
    kind = rng.choice(_GENERIC_KINDS)
    text = _description(rng, name.replace("_", " "))
    base: Schema = {"title": _title(name), "description": text}
    if kind == "string":
        return {**base, "type": "string", "default": rng.choice(_WORDS)}
    if kind == "integer":
        return {**base, "type": "integer", "minimum": 0, "maximum": rng.choice((8, 100, 4096))}
    if kind == "number":
        return {**base, "type": "number", "exclusiveMinimum": 0, "default": 1.0}
    if kind == "boolean":
        return {**base, "type": "boolean", "default": False}
    if kind == "nullable":
        inner = rng.choice(({"type": "string"}, {"type": "number"}, {"type": "integer"}))
        return _nullable(inner, **base) | ({"examples": [None]} if rng.random() < 0.4 else {})
    if kind == "enum":
        values = [f"{rng.choice(_WORDS)}-{i}" for i in range(rng.randint(2, 6))]
        return {**base, "type": "string", "enum": values, "default": values[0]}
    if kind == "list":
        return {**base, "type": "array", "items": {"type": rng.choice(("string", "number"))}}
    model = f"{owner}{_pascal(name)}"
    props = {
        f"{word}_{i}": {"title": _title(word), "type": rng.choice(("string", "integer", "number"))}
        for i, word in enumerate(rng.sample(_WORDS, rng.randint(2, 5)))
    }
    spec.schemas[model] = _obj(model, props, list(props)[:1])
    if rng.random() < 0.5:
        return {**base, "type": "array", "items": {"$ref": REF + model}}
    return {**base, "allOf": [{"$ref": REF + model}]}


_CORE = {
    "text-to-image": ("prompt", "image_size", "num_inference_steps", "seed", "num_images"),
    "image-to-image": ("prompt", "image_url", "strength", "seed"),
    "upscale": ("image_url", "upscale_factor", "seed"),
    "background-removal": ("image_url", "sync_mode"),
    "image-to-video": ("prompt", "image_url", "duration", "aspect_ratio"),
    "text-to-video": ("prompt", "duration", "aspect_ratio", "negative_prompt"),
}
_SPECIAL: dict[str, _Maker] = {
    "prompt": _prompt,
    "image_size": _image_size_field,
    "image_url": _url_field,
    "upscale_factor": _number_range(1, 10, 2),
}


def _input(spec: _Spec, kind: str, owner: str, title: str) -> Schema:
    rng = spec.rng
    count = round(rng.triangular(4, 30, 9))
    names = list(_CORE[kind])
    optional = sorted(set(_NAMED) - set(names))
    rng.shuffle(optional)
    names += optional[: max(0, count - len(names) - rng.randint(0, 3))]
    while len(names) < count:
        names.append(f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}_{len(names)}")
    props: dict[str, Schema] = {}
    for name in names:
        maker = _SPECIAL.get(name) or _NAMED.get(name)
        props[name] = maker(spec, name) if maker else _generic(spec, name, owner)
    required = [n for n in ("prompt", "image_url") if n in props]
    required += [n for n in names[len(_CORE[kind]) :] if rng.random() < 0.08]
    schema = _obj(title, props, required)
    # The display order is not the order of the properties in fal's documents.
    shuffled = list(props.items())
    rng.shuffle(shuffled)
    schema["properties"] = dict(shuffled)
    return schema


def _output(spec: _Spec, kind: str, title: str) -> Schema:
    rng = spec.rng
    props: dict[str, Schema] = {}
    if kind in ("text-to-image", "image-to-image"):
        props["images"] = {
            "title": "Images",
            "type": "array",
            "items": {"$ref": spec.use("Image")},
            "description": "The generated image files info.",
        }
        props["timings"] = {
            "title": "Timings",
            "type": "object",
            "additionalProperties": {"type": "number"},
        }
        props["seed"] = {
            "title": "Seed",
            "type": "integer",
            "description": _seed(spec, "")["description"],
        }
        props["has_nsfw_concepts"] = {
            "title": "Has Nsfw Concepts",
            "type": "array",
            "items": {"type": "boolean"},
            "description": "Whether the generated images contain NSFW concepts.",
        }
        props["prompt"] = {
            "title": "Prompt",
            "type": "string",
            "description": "The prompt used for generating the image.",
        }
    elif kind in ("upscale", "background-removal"):
        props["image"] = {
            "$ref": spec.use("Image"),
            "examples": [{"content_type": "image/png", "url": _url(rng, "png")}],
            "description": "Upscaled image file after processing"
            if kind == "upscale"
            else "Image with the background removed",
        }
        if kind == "background-removal" and rng.random() < 0.5:
            props["mask_image"] = _nullable(
                {"$ref": spec.use("Image")},
                title="Mask Image",
                description="The mask, if asked for.",
            )
        props["seed"] = {"title": "Seed", "type": "integer", "description": "The seed used."}
    else:
        video = "VideoFile" if rng.random() < 0.4 else "File"
        props["video"] = {
            "title": "Video",
            "examples": [{"url": _url(rng, "mp4")}],
            "description": "The generated video",
            "allOf": [{"$ref": spec.use(video)}],
        }
        if rng.random() < 0.5:
            props["seed"] = {"title": "Seed", "type": "integer", "description": "The seed used."}
    if rng.random() < 0.2:
        props["structured_instruction"] = {
            "title": "Structured Instruction",
            "type": "object",
            "additionalProperties": True,
            "description": "Current instruction.",
        }
    return _obj(title, props, [name for name in props if name != "structured_instruction"])


def _paths(endpoint_id: str, input_name: str, output_name: str) -> Schema:
    request_id = {
        "name": "request_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "description": "Request ID"},
    }

    def reply(description: str, schema: Schema) -> Schema:
        return {
            "200": {"description": description, "content": {"application/json": {"schema": schema}}}
        }

    base = f"/{endpoint_id}/requests/{{request_id}}"
    status = {"$ref": REF + "QueueStatus"}
    return {
        f"{base}/status": {
            "get": {
                "parameters": [
                    request_id,
                    {
                        "name": "logs",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "number",
                            "description": "Whether to include logs (`1`) in the response or not "
                            "(`0`).",
                        },
                    },
                ],
                "responses": reply("The request status.", status),
            }
        },
        f"{base}/cancel": {
            "put": {
                "parameters": [request_id],
                "responses": reply(
                    "The request was cancelled.",
                    {
                        "type": "object",
                        "properties": {
                            "success": {
                                "type": "boolean",
                                "description": "Whether the request was cancelled successfully.",
                            }
                        },
                    },
                ),
            }
        },
        f"/{endpoint_id}": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF + input_name}}},
                },
                "responses": reply("The request status.", status),
            }
        },
        base: {
            "get": {
                "parameters": [request_id],
                "responses": reply("Result of the request.", {"$ref": REF + output_name}),
            }
        },
    }


def _endpoint_id(rng: random.Random, index: int, kind: str) -> str:
    task = rng.choice(_TASKS[kind])
    word = rng.choice(_WORDS)
    roll = rng.random()
    if roll < 0.5:
        return f"synth-{index}/{word}-{task}"
    if roll < 0.85:
        return f"fal-ai/{word}-{index}" + ("" if rng.random() < 0.5 else f"/{task}")
    version = rng.choice(("v1", "v1.5", "v2", "v2.1"))
    tier = rng.choice(("standard", "pro", "fast", "turbo"))
    return f"fal-ai/{word}-{index}/{version}/{tier}/{task}"


def make_spec(rng: random.Random, index: int, *, reuse: float) -> tuple[str, Schema]:
    """One endpoint: id and document; ``reuse`` is the chance that a shared type is canonical."""
    kind = rng.choices([k for k, _, _ in _KINDS], [w for _, w, _ in _KINDS])[0]
    category = next(c for k, _, c in _KINDS if k == kind)
    endpoint_id = _endpoint_id(rng, index, kind)
    owner = _pascal(endpoint_id.split("/", 1)[1])
    spec = _Spec(rng=rng, drift=1 - reuse, image_variant=int(rng.random() < 0.3))
    input_name, output_name = f"{owner}Input", f"{owner}Output"
    title = rng.choice(("TextToImageInput", "ImageToImageInput", "Input", f"{owner}Request"))
    inputs = _input(spec, kind, owner, title)
    outputs = _output(spec, kind, rng.choice(("Output", f"{owner}Output", "I2VOutput")))
    info: Schema = {
        "title": f"Queue OpenAPI for {endpoint_id}",
        "version": "1.0.0",
        "description": f"The OpenAPI schema for the {endpoint_id} queue.",
        "x-fal-metadata": {
            "endpointId": endpoint_id,
            "category": category,
            "thumbnailUrl": _url(rng, "jpeg"),
            "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
            "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
        },
    }
    if kind == "text-to-image" and rng.random() < 0.08:
        info["x-falgen-capabilities"] = ["streaming"]
    if rng.random() < 0.15:
        info["x-falgen-summary"] = f"{_pascal(endpoint_id)} {kind}: {_sentences(rng, 2)}"
    document = {
        "openapi": "3.0.4",
        "info": info,
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Fal Key",
                }
            },
            "schemas": {
                "QueueStatus": copy.deepcopy(_QUEUE_STATUS),
                input_name: inputs,
                output_name: outputs,
                **spec.schemas,
            },
        },
        "paths": _paths(endpoint_id, input_name, output_name),
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
    }
    return endpoint_id, document


def generate_specs(count: int, seed: int = 0) -> list[tuple[str, Schema]]:
    """``count`` endpoints as (id, document), deterministic for ``seed``."""
    rng = random.Random(seed)
    specs = []
    for index in range(count):
        # The share of canonical shared types varies by endpoint: most reuse everything.
        reuse = rng.choice((1.0, 1.0, 1.0, 0.9, 0.75, 0.5))
        specs.append(make_spec(random.Random(rng.getrandbits(64)), index, reuse=reuse))
    return specs


def write_specs(folder: Path, count: int, seed: int = 0, *, force: bool = False) -> list[str]:
    """Write ``count`` specs as ``folder/<endpoint id>.json``; the endpoint ids, in order.

    The folder must be missing or empty, or (with ``force``) one written here before, which is
    then replaced.
    """
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise FileExistsError(
                f"{folder} is not empty and was not written by bench.synthetic_specs"
            )
        if not force:
            raise FileExistsError(f"{folder} is not empty (force=True / --force replaces it)")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(f"count={count} seed={seed}\n")
    ids = []
    for endpoint_id, document in generate_specs(count, seed):
        path = folder / f"{endpoint_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        ids.append(endpoint_id)
    return ids


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthetic_specs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out", type=Path, help="specs folder to write (missing or empty)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace a folder written earlier")
    args = parser.parse_args(argv)
    try:
        ids = write_specs(args.out, args.count, args.seed, force=args.force)
    except FileExistsError as problem:
        print(f"bench.synthetic_specs: {problem}", file=sys.stderr)
        return 1
    print(f"wrote {len(ids)} specs to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
