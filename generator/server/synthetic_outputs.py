"""Make a model's output from its Output schema, as a stand-in for running the model.

The output must validate against the schema and look like fal's: property examples where the spec
has valid ones, values derived from the schema otherwise, the caller's ``prompt`` and ``seed``
echoed back, and every file-like object (one with a ``url``) backed by a real PNG of the requested
size that the server serves (or inlined as a data URI with ``sync_mode``).
"""

from __future__ import annotations

import base64
import copy
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from .catalog import Endpoint
from .files import FileStore, StoredFile
from .images import requested_size, solid_png

JSON = Any
logger = logging.getLogger("falgen.server")

# Input fields copied into same-named output fields (fal returns the seed it actually used).
ECHOED_FIELDS = ("prompt", "seed")
IMAGE_COUNT_FIELD = "num_images"
MAX_IMAGES = 16  # where a schema sets no maximum, a local server still should not render 10,000
NSFW_FIELD = "has_nsfw_concepts"  # one flag per generated image
TIMINGS_FIELD = "timings"
PNG_TYPE = "image/png"
_MAX_SEED = 2**31 - 1
_NOT_SET = object()
_TEXT = "falgen"


@dataclass
class OutputRequest:
    """What one simulated inference needs: the validated input (defaults applied) and where the
    generated files are published. ``shade`` distinguishes the previews of a stream."""

    model_input: dict[str, JSON]
    rng: random.Random
    cdn_url: str
    inference_time: float
    shade: int = 0
    file_count: int = 0  # files made so far, to number their names

    @property
    def image_count(self) -> int:
        count = self.model_input.get(IMAGE_COUNT_FIELD, 1)
        return min(count, MAX_IMAGES) if isinstance(count, int) and count > 0 else 1


class Synthesizer:
    """Builds outputs for one endpoint and stores the files they reference."""

    def __init__(self, endpoint: Endpoint, files: FileStore) -> None:
        self.endpoint = endpoint
        self.schemas = endpoint.schemas
        self.files = files

    def output(self, request: OutputRequest) -> dict[str, JSON]:
        schema = self.schemas.resolve(self.schemas.components[self.endpoint.output_component])
        result = self._object(schema, request, top_level=True)
        problems = self.endpoint.output_errors(result)
        if problems:
            logger.warning(
                "synthesised output of %s does not match its schema: %s",
                self.endpoint.endpoint_id,
                problems[0]["msg"],
            )
        return result

    def _object(self, schema: JSON, request: OutputRequest, top_level: bool) -> dict[str, JSON]:
        required = set(schema.get("required", []))
        result: dict[str, JSON] = {}
        for name, node in schema.get("properties", {}).items():
            value = self._convention(name, node, request) if top_level else _NOT_SET
            if value is _NOT_SET and (name in required or self._has_sample(node)):
                value = self._value(node, request)
            if value is not _NOT_SET:
                result[name] = value
        return result

    def _convention(self, name: str, node: JSON, request: OutputRequest) -> JSON:
        """fal's output conventions, used when they fit the property's schema."""
        model_input = request.model_input
        candidate: JSON = _NOT_SET
        if name in ECHOED_FIELDS and name in model_input:
            candidate = model_input[name]
        elif name == "seed":
            candidate = request.rng.randint(0, _MAX_SEED)
        elif name == NSFW_FIELD:
            candidate = [False] * request.image_count
        elif name == TIMINGS_FIELD:
            candidate = {"inference": request.inference_time}
        if candidate is _NOT_SET or not self._fits(candidate, node):
            return _NOT_SET
        return candidate

    def _value(self, node: JSON, request: OutputRequest) -> JSON:
        node = self.schemas.resolve(node)
        if self._is_file(node):
            return self._file(node, request)
        if not self._holds_file(node):
            for sample in [
                *node.get("examples", []),
                *([node["default"]] if "default" in node else []),
            ]:
                if self._fits(sample, node):
                    return copy.deepcopy(sample)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return next((option for option in node["enum"] if option is not None), None)
        alternatives = node.get("anyOf") or node.get("oneOf")
        if alternatives:
            resolved = [self.schemas.resolve(alternative) for alternative in alternatives]
            usable = [alt for alt in resolved if alt.get("type") != "null"] or resolved
            return self._value(usable[0], request)
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((option for option in kind if option != "null"), "null")
        return self._typed(kind, node, request)

    def _typed(self, kind: str | None, node: JSON, request: OutputRequest) -> JSON:
        if kind == "object" or (kind is None and "properties" in node):
            return self._object(node, request, top_level=False)
        if kind == "array":
            items = node.get("items", {})
            wanted = request.image_count if self._holds_file(items) else 1
            count = max(node.get("minItems", 0), min(wanted, node.get("maxItems", wanted)))
            return [self._value(items, request) for _ in range(count)]
        if kind == "string":
            length = max(node.get("minLength", 0), len(_TEXT))
            if "maxLength" in node:
                length = min(length, node["maxLength"])
            return (_TEXT * (length // len(_TEXT) + 1))[:length]
        if kind in ("integer", "number"):
            return _number(node, integer=kind == "integer")
        if kind == "boolean":
            return False
        return None

    def _file(self, node: JSON, request: OutputRequest) -> dict[str, JSON]:
        width, height = requested_size(request.model_input)
        rng = request.rng
        shade = request.shade * 40
        rgb = tuple((rng.randrange(256) + shade) % 256 for _ in range(3))
        data = solid_png(width, height, (rgb[0], rgb[1], rgb[2]))
        file_id = f"{rng.getrandbits(128):032x}"
        request.file_count += 1
        name = f"output_{request.file_count}.png"
        if request.model_input.get("sync_mode") is True:
            url = f"data:{PNG_TYPE};base64," + base64.b64encode(data).decode("ascii")
        else:
            self.files.put_with_id(file_id, StoredFile(data, PNG_TYPE, name))
            url = request.cdn_url + FileStore.path_of(file_id, name)
        known: dict[str, JSON] = {
            "url": url,
            "content_type": PNG_TYPE,
            "file_name": name,
            "file_size": len(data),
            "width": width,
            "height": height,
        }
        properties = node.get("properties", {})
        result = {key: value for key, value in known.items() if key in properties}
        for prop in node.get("required", []):
            if prop not in result and prop in properties:
                result[prop] = self._value(properties[prop], request)
        return result

    def _is_file(self, node: JSON) -> bool:
        """File-like objects (fal's File, Image, Video ...) are those with a ``url`` property."""
        properties = node.get("properties")
        return isinstance(properties, dict) and "url" in properties

    def _holds_file(self, node: JSON) -> bool:
        node = self.schemas.resolve(node)
        if self._is_file(node):
            return True
        alternatives = node.get("anyOf") or node.get("oneOf") or []
        items = [node["items"]] if isinstance(node.get("items"), dict) else []
        return any(self._holds_file(child) for child in [*alternatives, *items])

    def _has_sample(self, node: JSON) -> bool:
        node = self.schemas.resolve(node)
        return bool(node.get("examples")) or "default" in node

    def _fits(self, value: JSON, node: JSON) -> bool:
        return bool(self.schemas.subschema_validator(node).is_valid(value))


def _number(node: JSON, integer: bool) -> int | float:
    """A value inside the node's bounds: the midpoint of two bounds, else next to the one."""
    step = 1 if integer else 0.5
    low, low_open = node.get("minimum"), False
    if "exclusiveMinimum" in node:
        low, low_open = node["exclusiveMinimum"], True
    high, high_open = node.get("maximum"), False
    if "exclusiveMaximum" in node:
        high, high_open = node["exclusiveMaximum"], True
    if low is not None and high is not None:
        value = (low + high) / 2
        if integer:
            value = (
                math.floor(value) if math.floor(value) > low or not low_open else math.ceil(value)
            )
    elif low is not None:
        value = low + step if low_open else low
    elif high is not None:
        value = high - step if high_open and high <= 0 else min(0, high)
    else:
        value = 0
    return int(value) if integer else float(value)
