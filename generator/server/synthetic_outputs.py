"""Make a model's output from its Output schema, as a stand-in for running the model.

The output must validate against the schema and look like fal's: property examples where the spec
has valid ones, values derived from the schema otherwise (every form fal's documents use: objects,
arrays and tuples, unions, ``allOf``, ``const``, enums, type lists, untyped values), the caller's
``prompt`` and ``seed`` echoed back, and every file-like object (one with a ``url``) backed by a
real file that the server serves (or inlined as a data URI with ``sync_mode``): an image of the
requested size, or audio, video, a 3D model, an archive... as the document tells (media.py).
"""

from __future__ import annotations

import base64
import copy
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from generator.schema import CATALOG_KEY

from .catalog import Endpoint
from .files import FileStore, StoredFile
from .images import requested_size
from .media import MEDIA, Kind, file_bytes, kind_of

JSON = Any
logger = logging.getLogger("falgen.server")

# Input fields copied into same-named output fields (fal returns the seed it actually used).
ECHOED_FIELDS = ("prompt", "seed")
IMAGE_COUNT_FIELD = "num_images"
MAX_IMAGES = 16  # where a schema sets no maximum, a local server still should not render 10,000
NSFW_FIELD = "has_nsfw_concepts"  # one flag per generated image
TIMINGS_FIELD = "timings"
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


@dataclass(frozen=True)
class Hints:
    """What the document says about a value, for the files inside it: the names of the
    property and schemas it sits in (innermost first), and the examples given for it (its own,
    and the matching parts of its parent's)."""

    names: tuple[str, ...] = ()
    examples: tuple[JSON, ...] = ()

    @property
    def urls(self) -> list[str]:
        return [url for example in self.examples for url in _urls(example)]

    def around(self, node: JSON, name: str | None = None) -> Hints:
        """The hints for ``node`` (unresolved: its ``$ref`` names a schema): the property
        ``name`` of the value these hints describe, or with no name the same value (a union's
        member, an array's items)."""
        names = [name] if name else []
        names += [target.rsplit("/", 1)[-1] for target in _refs(node)]
        own: list[JSON] = []
        if isinstance(node, dict):
            if isinstance(node.get("title"), str):
                names.append(node["title"])
            if isinstance(node.get("examples"), list):
                own = node["examples"]
        inherited = (
            self.examples
            if name is None
            else tuple(ex[name] for ex in self.examples if isinstance(ex, dict) and name in ex)
        )
        return Hints((*names, *self.names), (*own, *inherited))

    def items(self) -> Hints:
        """The hints for the items of the array these hints describe."""
        examples = (item for ex in self.examples if isinstance(ex, list) for item in ex)
        return Hints(self.names, tuple(examples))


class Synthesizer:
    """Builds outputs for one endpoint and stores the files they reference."""

    def __init__(self, endpoint: Endpoint, files: FileStore) -> None:
        self.endpoint = endpoint
        self.schemas = endpoint.schemas
        self.files = files
        info = endpoint.spec.document["info"]
        categories = [info.get(CATALOG_KEY, {}), info.get("x-fal-metadata", {})]
        self.category = next(
            (c["category"] for c in categories if isinstance(c.get("category"), str)), ""
        )

    def output(self, request: OutputRequest) -> dict[str, JSON]:
        component = self.endpoint.output_component
        hints = Hints((component,)).around(self.schemas.components[component])
        schema = self.schemas.resolve(self.schemas.components[component])
        result = self._object(schema, request, top_level=True, hints=hints)
        problems = self.endpoint.output_errors(result)
        if problems:
            logger.warning(
                "synthesised output of %s does not match its schema: %s",
                self.endpoint.endpoint_id,
                problems[0]["msg"],
            )
        return result

    def sample(self, component: str, cdn_url: str) -> JSON:
        """A value valid against any component of the endpoint, made the same way: its
        required fields, from the document's examples where they fit (a sample input)."""
        request = OutputRequest({}, random.Random(component), cdn_url, 0.0)
        return self._value(self.schemas.components[component], request)

    def _object(
        self, schema: JSON, request: OutputRequest, top_level: bool, hints: Hints = Hints()
    ) -> dict[str, JSON]:
        # The required properties, those with examples, and those the examples show.
        wanted = set(schema.get("required", []))
        wanted |= {
            key for example in hints.examples if isinstance(example, dict) for key in example
        }
        result: dict[str, JSON] = {}
        for name, node in schema.get("properties", {}).items():
            value = self._convention(name, node, request) if top_level else _NOT_SET
            if value is _NOT_SET and (name in wanted or self._has_sample(node)):
                value = self._value(node, request, hints.around(node, name))
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

    def _value(self, node: JSON, request: OutputRequest, hints: Hints = Hints()) -> JSON:
        if node is True or not isinstance(node, dict):  # untyped: any value will do
            return None
        node = self.schemas.resolve(node)
        if self._is_file(node):
            return self._file(node, request, hints)
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
            usable = [
                alternative
                for alternative in alternatives
                if self.schemas.resolve(alternative).get("type") != "null"
            ] or alternatives
            return self._value(usable[0], request, hints.around(usable[0]))
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((option for option in kind if option != "null"), "null")
        return self._typed(kind, node, request, hints)

    def _typed(self, kind: str | None, node: JSON, request: OutputRequest, hints: Hints) -> JSON:
        if kind == "object" or (kind is None and "properties" in node):
            return self._object(node, request, top_level=False, hints=hints)
        if kind == "array" or (kind is None and "prefixItems" in node):
            return self._array(node, request, hints)
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

    def _array(self, node: JSON, request: OutputRequest, hints: Hints) -> list[JSON]:
        """Items for an array: a tuple's (``prefixItems``) one by one, else as many as the
        schema asks for (one per requested image for files), then more up to ``minItems``."""
        items = node.get("items", {})
        prefix = node.get("prefixItems")
        inside = hints.items()
        if isinstance(prefix, list):
            values = [self._value(item, request, inside.around(item)) for item in prefix]
            missing = node.get("minItems", 0) - len(values)
            if isinstance(items, dict) and missing > 0:
                values += [self._value(items, request, inside.around(items))] * missing
            return values
        wanted = request.image_count if self._holds_file(items) else 1
        count = max(node.get("minItems", 0), min(wanted, node.get("maxItems", wanted)))
        return [self._value(items, request, inside.around(items)) for _ in range(count)]

    def _file(self, node: JSON, request: OutputRequest, hints: Hints) -> dict[str, JSON]:
        properties = node.get("properties", {})
        has_size = "width" in properties and "height" in properties
        kind = kind_of(hints.urls, hints.names, self.category, has_size)
        media = MEDIA[kind]
        width, height = requested_size(request.model_input)
        rng = request.rng
        shade = request.shade * 40
        rgb = tuple((rng.randrange(256) + shade) % 256 for _ in range(3))
        data = file_bytes(kind, width, height, (rgb[0], rgb[1], rgb[2]))
        file_id = f"{rng.getrandbits(128):032x}"
        request.file_count += 1
        name = f"output_{request.file_count}{media.extension}"
        if request.model_input.get("sync_mode") is True:
            url = f"data:{media.content_type};base64," + base64.b64encode(data).decode("ascii")
        else:
            self.files.put_with_id(file_id, StoredFile(data, media.content_type, name))
            url = request.cdn_url + FileStore.path_of(file_id, name)
        known: dict[str, JSON] = {
            "url": url,
            "content_type": media.content_type,
            "file_name": name,
            "file_size": len(data),
        }
        if kind is Kind.IMAGE or kind is Kind.VIDEO:
            known |= {"width": width, "height": height}
        result = {
            key: value
            for key, value in known.items()
            if key in properties and self._fits(value, properties[key])
        }
        for prop in node.get("required", []):
            if prop not in result and prop in properties:
                result[prop] = self._value(properties[prop], request, hints.around(node, prop))
        return result

    def _is_file(self, node: JSON) -> bool:
        """File-like objects (fal's File, Image, Video ...) are those with a ``url`` property."""
        properties = node.get("properties")
        return isinstance(properties, dict) and "url" in properties

    def _holds_file(self, node: JSON) -> bool:
        """Whether a file object may be inside: then examples are not copied, since their URLs
        name fal's CDN, not this server."""
        if not isinstance(node, dict):
            return False
        node = self.schemas.resolve(node)
        if self._is_file(node):
            return True
        alternatives = node.get("anyOf") or node.get("oneOf") or []
        items = [node["items"]] if isinstance(node.get("items"), dict) else []
        prefix = node.get("prefixItems") if isinstance(node.get("prefixItems"), list) else []
        properties = node.get("properties")
        fields = list(properties.values()) if isinstance(properties, dict) else []
        return any(self._holds_file(child) for child in [*alternatives, *items, *prefix, *fields])

    def _has_sample(self, node: JSON) -> bool:
        if not isinstance(node, dict):
            return False
        node = self.schemas.resolve(node)
        return bool(node.get("examples")) or "default" in node

    def _fits(self, value: JSON, node: JSON) -> bool:
        return bool(self.schemas.subschema_validator(node).is_valid(value))


def _refs(node: JSON) -> list[str]:
    """The ``$ref`` targets ``node`` names directly or through ``allOf``/``anyOf``/``oneOf``."""
    if not isinstance(node, dict):
        return []
    refs = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    for keyword in ("allOf", "anyOf", "oneOf"):
        members = node.get(keyword)
        if isinstance(members, list):
            refs += [m["$ref"] for m in members if isinstance(m, dict) and "$ref" in m]
    return refs


def _urls(value: JSON) -> list[str]:
    """The ``url`` strings anywhere inside an example."""
    if isinstance(value, dict):
        url = value.get("url")
        nested = [found for item in value.values() for found in _urls(item)]
        return [url, *nested] if isinstance(url, str) else nested
    if isinstance(value, list):
        return [found for item in value for found in _urls(item)]
    return []


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
    multiple = node.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = round(value / multiple) * multiple
        if low is not None and (value < low or (low_open and value <= low)):
            value += multiple
        elif high is not None and (value > high or (high_open and value >= high)):
            value -= multiple
    return int(value) if integer else float(value)
