"""Hypothesis strategies: small fal-style spec folders whose every string is hostile.

One example is one folder of 1-3 endpoint specs with a handful of fields, built with
:func:`tests.helpers.make_spec`. Hostility is spread over every string the generator reads:

* free text (descriptions, titles of scalar fields, examples, string defaults, enum values,
  ``x-falgen-summary``, the category) always carries :data:`TEXT_MARKER`, which must never reach
  the generated code outside string literals, docstrings and comments, plus payloads that try
  to break out of Python strings, Markdown, YAML, TOML or Jinja;
* names (property names, component names, titles of inline objects, endpoint ids) are Python
  keywords and builtins, names the generated modules use themselves, and names that differ only
  in case or punctuation; they legitimately become identifiers, so they are checked for being
  valid, unique ones instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from generator.naming import pascal_name
from tests.helpers import make_spec

# In every free-text string: it may appear in the output only inside literals and comments.
TEXT_MARKER = "zqxMarker"
# What the Jinja payloads below would render as, were spec text ever evaluated as a template.
JINJA_RESULTS = ("zqxJinjaHit", "zqx49zqx")
JINJA_PAYLOADS = (
    "{{ 'zqxJinja' ~ 'Hit' }}",
    "zqx{{ 7*7 }}zqx",
    "{% if true %}zqxJinja{% endif %}Hit",
    "{# a comment #}",
    "{% raw %}",
    "{% endraw %}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{ self.__init__.__globals__ }}",
)
BREAKOUTS = (
    '"',
    "'",
    '"""',
    "'''",
    '\\"""',
    '"""\\',
    "\\",
    "\\\\",
    "\\n",
    "\\x00",
    "\\u0000",
    "\\N{BULLET}",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x0b",
    "\x0c",
    '"""; import os; os.system(\'x\')',
    "'''; import os; os.system('x') #",
    '"); os.system("x"); ("',
    "\nimport os\nos.system('x')\n",
    "# comment",
    "\n    def __init__(self): os.system('x')\n",
    "__import__('os').system('x')",
    "eval('1')",
    "f'{os.system(1)}'",
    "%s %r {0} {}",
)
MARKUP = (
    "|",
    "||",
    "`",
    "```",
    "````python",
    "*bold*",
    "_em_",
    "[link](javascript:alert(1))",
    "<script>alert(1)</script>",
    "<!--",
    "-->",
    "&amp;",
    "\n# Heading\n",
    "\n- item\n",
    "\n1. item\n",
    "\n> quote\n",
    '\n=== "tab"\n',
    "\n---\n",
    "!!! warning",
    "{ #anchor }",
    "$(rm -rf /)",
    "`rm -rf /`",
    "${HOME}",
    "; echo x",
    "key: value",
    "- [a, b]",
    "&anchor *alias",
    "!!python/object:os.system",
    "[table]",
    'a = "b"',
)
UNICODE = (
    "\x00",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\xa0",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "Ünïcødé ✓",
    "עברית",
    "العربية",
    "\U0001f600",
    "\U0001d518",
    "\U0010fffd",
    "e\u0301",
    "ﬁ",
    "ⅸ",
)
WORDS = ("class", "None", "True", "self", "print", "__init__", "import", "lambda", "async")
PAYLOADS = JINJA_PAYLOADS + BREAKOUTS + MARKUP + UNICODE + WORDS

# Any code point but lone surrogates (which are not valid Unicode text).
_CHARACTERS = st.characters(exclude_categories=("Cs",))


LONG = 1500  # past YAML's 1024-character limit on plain keys, and any line width


def _long(piece: str) -> str:
    return (piece * (LONG // max(len(piece), 1) + 1))[:LONG]


_PAYLOAD = st.sampled_from(PAYLOADS)
_TEXT = st.text(_CHARACTERS, max_size=12)
# Long strings are rare: they slow down every stage (and shrinking) without adding much.
_PIECES = st.one_of(*[_PAYLOAD, _TEXT] * 5, _PAYLOAD.map(_long))


@st.composite
def hostile_text(draw: st.DrawFn, *, max_pieces: int = 4) -> str:
    """Free text: hostile pieces around :data:`TEXT_MARKER` (possibly very long)."""
    before = draw(st.lists(_PIECES, max_size=max_pieces))
    after = draw(st.lists(_PIECES, max_size=max_pieces))
    return "".join(before) + TEXT_MARKER + "".join(after)


# Names the generated code itself uses, keywords, builtins, and near-collisions.
NAME_WORDS = (
    "class",
    "from",
    "None",
    "True",
    "self",
    "cls",
    "print",
    "__init__",
    "__class__",
    "_private",
    "_",
    "__",
    "",
    " ",
    "0",
    "3d",
    "str",
    "int",
    "list",
    "dict",
    "type",
    "object",
    "Field",
    "BaseModel",
    "ConfigDict",
    "RootModel",
    "Literal",
    "Annotated",
    "Any",
    "FileModel",
    "Model",
    "Model1",
    "TypeAliasType",
    "AwareDatetime",
    "Optional",
    "Union",
    "List",
    "Enum",
    "NotGiven",
    "NOT_GIVEN",
    "_t",
    "_rt",
    "shared",
    "typing",
    "pydantic",
    "model_config",
    "model_fields",
    "model_dump",
    "model_validate",
    "schema",
    "json",
    "copy",
    "validate",
    "construct",
    "fields",
    "options",
    "timeout",
    "priority",
    "webhook_url",
    "on_queue_update",
    "url",
    "content_type",
    "default",
    "examples",
    "example",
    "enum",
    "const",
    "description",
    "title",
    "type",
    "properties",
    "required",
    "items",
    "anyOf",
    "allOf",
    "$ref",
    "nullable",
    "x-fal-order-properties",
    "x-falgen-note",
    "a-b",
    "a_b",
    "A_B",
    "aB",
    "a b",
    "a.b",
    "a__b",
    "ab",
    "AB",
    "Image",
    "image",
    "IMAGE",
    "im-age",
    "Im_age",
    "image_url",
    "image-url",
    "Ünïcødé",
    "名前",
    "\U0001f600",
    "a\u200bb",
    "a\x00b",
    "a\nb",
    'x"""y',
    "x'y",
    "a\\b",
    "Foo/Bar",
    "a~b",
    "~1",
    '"""; import os; os.system(\'x\')',
    "os.system('x')",
    "{{ 7*7 }}",
    "{% raw %}",
    "<script>",
    "x" * 200,
)
_NAMES = st.one_of(
    st.sampled_from(NAME_WORDS),
    st.text(_CHARACTERS, min_size=1, max_size=16),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True),
)
property_names = _NAMES
component_names = _NAMES.filter(bool)

# Endpoint ids within ENDPOINT_ID_PATTERN: keywords, builtins, client attributes, collisions.
_SEGMENT_WORDS = (
    "fal-ai",
    "class",
    "None",
    "self",
    "print",
    "import",
    "shared",
    "endpoints",
    "status",
    "result",
    "cancel",
    "close",
    "config",
    "storage",
    "with_options",
    "http",
    "files",
    "a-b",
    "a_b",
    "A_B",
    "aB",
    "a.b",
    "a--b",
    "A-b",
    "0",
    "3d",
    "v1.1",
    "x" * 120,
)
_SEGMENTS = st.one_of(
    st.sampled_from(_SEGMENT_WORDS),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,12}", fullmatch=True),
)
_OWNERS = st.sampled_from(("fal-ai", "fal-ai", "workflows", "comfy", "A", "a", "fal_ai", "0"))


@st.composite
def endpoint_ids(draw: st.DrawFn) -> str:
    segments = draw(st.lists(_SEGMENTS, min_size=1, max_size=3))
    return "/".join([draw(_OWNERS), *segments])


# --- schemas ------------------------------------------------------------------------------------

_INTS = st.integers(min_value=-(2**70), max_value=2**70)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_SAFE_PATTERNS = st.sampled_from(
    ("^[a-z]+$", "^[\"']*$", r"\d+", '"""', r"^\\$", "(?:a|b)\n", "[{}%#]")
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": "#/components/schemas/" + name.replace("~", "~0").replace("/", "~1")}


@dataclass
class Components:
    """The named schemas one endpoint's properties refer to (filled while drawing)."""

    schemas: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


@st.composite
def scalar_schema(draw: st.DrawFn) -> dict[str, Any]:
    """A scalar property: every string in it hostile, its default valid for its type."""
    kind = draw(
        st.sampled_from(("string", "integer", "number", "boolean", "enum", "nullable", "list"))
    )
    node: dict[str, Any]
    if kind == "string":
        node = {"type": "string"}
        value = hostile_text()
        if draw(st.booleans()):
            node["pattern"] = draw(_SAFE_PATTERNS)
        if draw(st.booleans()):
            node["maxLength"] = draw(st.integers(0, 10**6))
    elif kind == "integer":
        node = {"type": "integer"}
        value = _INTS
        if draw(st.booleans()):
            node["minimum"] = draw(_INTS)
    elif kind == "number":
        node = {"type": "number"}
        value = _FLOATS
        if draw(st.booleans()):
            node["exclusiveMaximum"] = draw(_FLOATS)
    elif kind == "boolean":
        node = {"type": "boolean"}
        value = st.booleans()
    elif kind == "enum":
        values = draw(
            st.one_of(
                st.lists(hostile_text(max_pieces=2), min_size=1, max_size=4, unique=True),
                st.lists(_INTS, min_size=1, max_size=4, unique=True),
            )
        )
        node = {"type": "string" if isinstance(values[0], str) else "integer", "enum": values}
        value = st.sampled_from(values)
    elif kind == "nullable":
        node = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        value = st.one_of(st.none(), hostile_text())
    else:
        node = {"type": "array", "items": {"type": "string"}}
        value = st.lists(hostile_text(max_pieces=2), max_size=3)
        if draw(st.booleans()):
            node["maxItems"] = draw(st.integers(0, 100))
    if draw(st.booleans()):
        node["default"] = draw(value)
    if draw(st.booleans()):
        node["examples"] = [draw(value)]
    for key in ("description", "title"):
        if draw(st.booleans()):
            node[key] = draw(hostile_text())
    return node


@st.composite
def object_properties(
    draw: st.DrawFn, components: Components, *, depth: int, min_size: int = 1, max_size: int = 4
) -> dict[str, Any]:
    names = draw(st.lists(property_names, min_size=min_size, max_size=max_size, unique=True))
    return {name: draw(property_schema(components, depth=depth)) for name in names}


@st.composite
def property_schema(draw: st.DrawFn, components: Components, *, depth: int = 0) -> dict[str, Any]:
    """A property: mostly scalars; at depth 0 also references, inline objects, maps."""
    kind = draw(st.sampled_from(("scalar",) * 4 + (("ref", "inline", "map") if depth == 0 else ())))
    if kind == "scalar":
        return draw(scalar_schema())
    if kind == "map":
        return {
            "type": "object",
            "additionalProperties": draw(scalar_schema()),
            "description": draw(hostile_text()),
        }
    if kind == "inline":
        # The title of an inline object names its model: a name, not free text.
        node: dict[str, Any] = {
            "type": "object",
            "properties": draw(object_properties(components, depth=depth + 1, max_size=2)),
            "description": draw(hostile_text()),
        }
        if draw(st.booleans()):
            node["title"] = draw(component_names)
        return node
    existing = st.sampled_from(components.names) if components.names else st.nothing()
    name = draw(st.one_of(existing, component_names) if components.names else component_names)
    if name not in components.schemas:
        components.names.append(name)
        # Its properties are scalars (depth > 0): components never refer to each other.
        schema = {
            "type": "object",
            "properties": draw(object_properties(components, depth=depth + 1, max_size=3)),
            "description": draw(hostile_text()),
        }
        if draw(st.booleans()):  # a file object: gets download()/save() from the runtime
            schema["properties"]["url"] = {"type": "string", "description": draw(hostile_text())}
            schema["properties"]["content_type"] = {"type": "string"}
            schema["required"] = ["url"]
        components.schemas[name] = schema
    node = ref(name)
    if draw(st.booleans()):
        node = {"anyOf": [ref(name), {"type": "null"}], "description": draw(hostile_text())}
    return node


@dataclass(frozen=True)
class EndpointSpec:
    endpoint_id: str
    document: dict[str, Any]

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.component(self.input_name)

    @property
    def input_name(self) -> str:
        return pascal_name(self.endpoint_id.split("/", 1)[1]) + "Input"

    def component(self, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.document["components"]["schemas"][name]
        return schema


@st.composite
def endpoint_spec(
    draw: st.DrawFn, endpoint_id: str, shared: tuple[str, dict[str, Any]] | None = None
) -> EndpointSpec:
    components = Components()
    if shared is not None:  # a component the other endpoints have too: moves to shared
        components.names.append(shared[0])
        components.schemas[shared[0]] = shared[1]
    inputs = draw(object_properties(components, depth=0, max_size=5))
    if shared is not None:
        inputs[draw(property_names.filter(lambda name: name not in inputs))] = ref(shared[0])
    outputs = draw(object_properties(components, depth=0, max_size=2))
    required = draw(st.lists(st.sampled_from(sorted(inputs)), unique=True))
    base = pascal_name(endpoint_id.split("/", 1)[1])
    # make_spec names these; a hostile component must not replace them.
    reserved = {f"{base}Input", f"{base}Output", "QueueStatus"}
    schemas = {name: schema for name, schema in components.schemas.items() if name not in reserved}
    if len(schemas) < len(components.schemas):
        return draw(st.nothing())
    document = make_spec(
        endpoint_id,
        inputs,
        outputs,
        required=required,
        schemas=schemas,
        capabilities=draw(st.sampled_from([[], ["streaming"], ["realtime"]])),
    )
    info = document["info"]
    info["x-fal-metadata"]["category"] = draw(hostile_text(max_pieces=2))
    if draw(st.booleans()):
        info["x-falgen-summary"] = draw(hostile_text())
    if draw(st.booleans()):  # fal's catalogue entry, as falgen fetch keeps it
        info["x-fal-catalog"] = {
            "display_name": draw(hostile_text(max_pieces=2)),
            "description": draw(hostile_text()),
            "status": draw(st.sampled_from(["active", "deprecated"])),
            "tags": draw(st.lists(hostile_text(max_pieces=1), max_size=2)),
        }
    input_schema = document["components"]["schemas"][f"{base}Input"]
    if draw(st.booleans()):
        input_schema["description"] = draw(hostile_text())
    if draw(st.booleans()):  # fal's display order, possibly partial and with unknown names
        order = draw(st.permutations(sorted(inputs)))
        input_schema["x-fal-order-properties"] = [*order[: len(order) // 2 + 1], "ghost"]
    return EndpointSpec(endpoint_id, document)


@st.composite
def spec_folders(draw: st.DrawFn, *, max_endpoints: int = 3) -> list[EndpointSpec]:
    """1-3 endpoints with distinct ids; with several, one component is sometimes shared."""
    ids = draw(st.lists(endpoint_ids(), min_size=1, max_size=max_endpoints, unique=True))
    shared = None
    if len(ids) > 1 and draw(st.booleans()):
        shared_components = Components()
        name = draw(component_names)
        shared = (
            name,
            {
                "type": "object",
                "properties": draw(object_properties(shared_components, depth=1, max_size=2)),
                "description": draw(hostile_text()),
            },
        )
    return [draw(endpoint_spec(endpoint_id, shared)) for endpoint_id in ids]
