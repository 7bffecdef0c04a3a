"""Build the IR from validated spec documents.

Steps per document: normalise the component schemas (inline objects become named models,
single-item ``allOf`` becomes its reference), keep what the Input and Output reach, and type every
field. Across documents: models that are structurally identical in two or more endpoints move to
the shared module under their own name.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import keyword
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import SpecError, SpecErrors
from .ir import (
    MISSING,
    AnyType,
    Constraints,
    DictType,
    Endpoint,
    Field,
    ListType,
    LiteralType,
    Model,
    ModelRef,
    NoneType,
    Package,
    Primitive,
    TypeExpr,
    UnionType,
)
from .loader import SpecDocument
from .naming import is_safe_identifier, param_name, pascal_name, short_hash, snake_name, unique
from .schema import (
    NAMED_SCHEMAS,
    VALUE_KEYWORDS,
    iter_refs,
    json_pointer,
    ref_target,
    schema_ref,
    single_all_of,
)
from .settings import Options

SHARED_MODULE = "shared"
# ``info[CATALOG_KEY]``: the endpoint's entry in fal's model catalogue (Platform API
# ``metadata``: display_name, category, description, status, tags...), as falgen fetch keeps it.
CATALOG_KEY = "x-fal-catalog"

# Keyword names the generated client methods use for their own options (see the runtime's
# SubscribeOptions/SubmitOptions); spec fields with these names get another keyword.
OPTION_NAMES = (
    "cancel_on_timeout",
    "hint",
    "on_enqueue",
    "on_queue_update",
    "options",
    "priority",
    "start_timeout",
    "timeout",
    "webhook_url",
    "with_logs",
)
# Attributes of the generated client classes that endpoints must not shadow.
CLIENT_ATTRIBUTES = frozenset(
    {"close", "aclose", "config", "storage", "with_options", "http", "endpoint", "files"}
)
RESERVED_MODULES = frozenset({SHARED_MODULE, "__init__"})
# Names the generated modules import; models must not shadow them.
FILE_BASE_CLASS = "FileModel"  # the runtime's base of file objects (download(), save())
RESERVED_CLASSES = frozenset(
    {
        "Annotated",
        "Any",
        "BaseModel",
        "ConfigDict",
        "Field",
        "Literal",
        "RootModel",
        FILE_BASE_CLASS,
    }
)

_PRIMITIVES: dict[str, Primitive] = {
    "string": Primitive("str"),
    "integer": Primitive("int"),
    "number": Primitive("float"),
    "boolean": Primitive("bool"),
}


@dataclass
class _Doc:
    """Per-document working state."""

    spec: SpecDocument
    schemas: dict[str, Any]  # normalised components, including hoisted inline objects
    reachable: list[str]  # component names the Input and Output reach, sorted
    hashes: dict[str, str]  # structural hash of each reachable component


DEFAULT_OPTIONS = Options()


def build_package(specs: Sequence[SpecDocument], options: Options = DEFAULT_OPTIONS) -> Package:
    """The whole package's IR; raises :class:`SpecErrors` for constructs that cannot be typed."""
    docs = [_prepare(spec) for spec in sorted(specs, key=lambda spec: spec.endpoint_id)]
    shared = _choose_shared(docs)
    shared_models = tuple(
        _model(doc, name, class_name, SHARED_MODULE, _shared_refs(doc, shared))
        for (class_name, _), (doc, name) in sorted(shared.items())
    )
    modules = _endpoint_modules([doc.spec.endpoint_id for doc in docs])
    endpoints = []
    errors: list[SpecError] = []
    for doc in docs:
        try:
            endpoints.append(_endpoint(doc, modules[doc.spec.endpoint_id], shared))
        except SpecErrors as problem:
            errors.extend(problem.errors)
    if errors:
        raise SpecErrors(errors)
    return Package(
        distribution=options.distribution,
        import_name=options.import_name,
        version=options.version,
        changelog=options.changelog,
        endpoints=tuple(endpoints),
        shared_models=shared_models,
        option_names=OPTION_NAMES,
    )


# --- per document normalisation -------------------------------------------------------------


def _prepare(spec: SpecDocument) -> _Doc:
    schemas = dict(spec.schemas)  # _normalise makes new nodes: the spec's are left as they are
    for name in sorted(spec.schemas):
        schemas[name] = _normalise(schemas[name], name, schemas, top=True)
    reachable = _reachable(schemas, [spec.input_schema, spec.output_schema])
    hashes: dict[str, str] = {}
    for name in reachable:
        _structural_hash(name, schemas, hashes)
    return _Doc(spec=spec, schemas=schemas, reachable=reachable, hashes=hashes)


def _normalise(node: Any, owner: str, schemas: dict[str, Any], *, top: bool = False) -> Any:
    """Hoist inline object models into named components; unwrap ``allOf: [one schema]``."""
    if not isinstance(node, dict):
        return node
    # Our own annotations (x-falgen-note) document the spec, not the API.
    node = {key: value for key, value in node.items() if not key.startswith("x-falgen-")}
    if (
        not top
        and "properties" in node
        and isinstance(node["properties"], dict)
        and node["properties"]
    ):
        name = _fresh_component_name(owner, node, schemas)
        schemas[name] = _normalise(node, name, schemas, top=True)
        return {"$ref": schema_ref(name)}
    result = dict(node)
    inner = single_all_of(result)
    if isinstance(inner, dict):
        del result["allOf"]
        result = {**inner, **result} if "$ref" not in inner else {"$ref": inner["$ref"], **result}
    for key in ("items", "additionalProperties"):
        if isinstance(result.get(key), dict):
            result[key] = _normalise(result[key], f"{owner}Item", schemas)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(result.get(key), list):
            result[key] = [_normalise(item, owner, schemas) for item in result[key]]
    if isinstance(result.get("properties"), dict):
        result["properties"] = {
            prop: _normalise(value, owner + pascal_name(prop, fallback="Field"), schemas)
            for prop, value in result["properties"].items()
        }
    return result


def _fresh_component_name(owner: str, node: dict[str, Any], schemas: dict[str, Any]) -> str:
    base = pascal_name(node.get("title") or owner)
    return unique(base, set(schemas))


def _reachable(schemas: dict[str, Any], roots: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(t for _, ref in iter_refs(schemas[name], []) if (t := ref_target(ref)))
    return sorted(seen)


def _structural_hash(name: str, schemas: dict[str, Any], hashes: dict[str, str]) -> str:
    """A digest of the schema with every reference replaced by its target's digest."""
    if name not in hashes:

        def resolve(node: Any) -> Any:
            if isinstance(node, dict):
                resolved: dict[str, Any] = {}
                for key, value in node.items():
                    target = ref_target(value) if key == "$ref" and isinstance(value, str) else None
                    if target is not None:
                        resolved[key] = _structural_hash(target, schemas, hashes)
                    elif key in NAMED_SCHEMAS and isinstance(value, dict):
                        resolved[key] = {name: resolve(item) for name, item in value.items()}
                    else:
                        resolved[key] = value if key in VALUE_KEYWORDS else resolve(value)
                return resolved
            if isinstance(node, list):
                return [resolve(item) for item in node]
            return node

        canonical = json.dumps(resolve(schemas[name]), sort_keys=True, ensure_ascii=True)
        hashes[name] = hashlib.sha256(canonical.encode()).hexdigest()
    return hashes[name]


# --- shared models ----------------------------------------------------------------------------

_SharedKey = tuple[str, str]  # (class name, structural hash)


def _choose_shared(docs: Sequence[_Doc]) -> dict[_SharedKey, tuple[_Doc, str]]:
    """Models identical in two or more endpoints; one variant per class name, most used first."""
    users: dict[_SharedKey, list[tuple[_Doc, str]]] = defaultdict(list)
    for doc in docs:
        for name in doc.reachable:
            if name not in (doc.spec.input_schema, doc.spec.output_schema):
                users[_shared_key(doc, name)].append((doc, name))
    candidates = {key: found for key, found in users.items() if len(found) >= 2}
    by_name: dict[str, list[_SharedKey]] = defaultdict(list)
    for key in candidates:
        by_name[key[0]].append(key)
    chosen = {
        max(keys, key=lambda key: (len(candidates[key]), key[1])) for keys in by_name.values()
    }
    # A shared model may only reference shared models: drop the others until nothing changes.
    while dropped := {
        key
        for key in chosen
        for doc, name in candidates[key][:1]
        if any(_shared_key(doc, target) not in chosen for target in _targets(doc.schemas[name]))
    }:
        chosen -= dropped
    return {key: candidates[key][0] for key in chosen}


def _shared_refs(doc: _Doc, shared: dict[_SharedKey, tuple[_Doc, str]]) -> dict[str, ModelRef]:
    """References from a shared model: all of its targets are shared too."""
    return {
        name: ModelRef(_shared_key(doc, name)[0], shared=True)
        for name in doc.reachable
        if _shared_key(doc, name) in shared
    }


def _shared_key(doc: _Doc, name: str) -> _SharedKey:
    return (_class_name(name), doc.hashes[name])


def _targets(schema: Any) -> set[str]:
    return {target for _, ref in iter_refs(schema, []) if (target := ref_target(ref))}


def _class_name(component: str) -> str:
    name = pascal_name(component)
    return name + "Model" if name in RESERVED_CLASSES else name


# --- endpoints --------------------------------------------------------------------------------


def _endpoint_modules(endpoint_ids: Sequence[str]) -> dict[str, str]:
    """A module name per endpoint: the id without the ``fal-ai/`` owner, made an identifier."""

    def base(endpoint_id: str, *, full: bool) -> str:
        text = endpoint_id if full else endpoint_id.removeprefix("fal-ai/")
        name = snake_name(text, fallback="endpoint")
        if keyword.iskeyword(name) or name in RESERVED_MODULES or name in CLIENT_ATTRIBUTES:
            name += "_endpoint"
        return name

    short = Counter(base(endpoint_id, full=False) for endpoint_id in endpoint_ids)
    names = {
        endpoint_id: base(endpoint_id, full=short[base(endpoint_id, full=False)] > 1)
        for endpoint_id in endpoint_ids
    }
    counts = Counter(names.values())
    return {
        endpoint_id: f"{name}_{short_hash(endpoint_id)}" if counts[name] > 1 else name
        for endpoint_id, name in names.items()
    }


def _endpoint(doc: _Doc, module: str, shared: dict[_SharedKey, tuple[_Doc, str]]) -> Endpoint:
    spec = doc.spec
    class_name = pascal_name(module)
    # The resource classes, and the realtime connection classes the template may add.
    taken = set(RESERVED_CLASSES) | {
        prefix + class_name + suffix for prefix in ("", "Async") for suffix in ("", "Realtime")
    }
    io = (spec.input_schema, spec.output_schema)
    shared_used = {
        name for name in doc.reachable if name not in io and _shared_key(doc, name) in shared
    }
    local = [name for name in doc.reachable if name not in shared_used]
    class_names = {
        name: unique(_class_name(name), taken) for name in [*io, *sorted(set(local) - set(io))]
    }
    refs = {name: ModelRef(class_names[name], shared=False) for name in local}
    refs |= {name: ModelRef(_shared_key(doc, name)[0], shared=True) for name in shared_used}
    models = {name: _model(doc, name, refs[name].class_name, module, refs) for name in local}
    info = spec.document["info"]
    metadata = info.get("x-fal-metadata", {})
    # fal's catalogue entry (display name, description, status...), kept by falgen fetch.
    catalog = info.get(CATALOG_KEY, {})
    input_model = models[spec.input_schema]
    return Endpoint(
        endpoint_id=spec.endpoint_id,
        source=spec.source,
        digest=spec.digest,
        module=module,
        attribute=module,
        class_name=class_name,
        title=spec.endpoint_id,
        summary=str(info.get("x-falgen-summary") or catalog.get("description") or "").strip(),
        category=str(catalog.get("category") or metadata.get("category", "")),
        display_name=str(catalog.get("display_name") or spec.endpoint_id),
        status=str(catalog.get("status") or "active"),
        tags=tuple(str(tag) for tag in catalog.get("tags", ())),
        input=input_model,
        output=models[spec.output_schema],
        models=tuple(models[name] for name in local),
        shared_models=tuple(sorted(refs[name].class_name for name in shared_used)),
        capabilities=tuple(sorted(set(info.get("x-falgen-capabilities", [])))),
        example_input={
            field.name: field.examples[0] for field in input_model.fields if field.examples
        },
    )


def _model(doc: _Doc, name: str, class_name: str, module: str, refs: dict[str, ModelRef]) -> Model:
    """One model's fields and the JSON schema (refs pointing at dcg ``$defs``) that produces it."""
    schema = doc.schemas[name]
    pointer = ["components", "schemas", name]
    is_io = name in (doc.spec.input_schema, doc.spec.output_schema)

    typer = _Typer(doc.spec.source, refs.__getitem__)
    properties: dict[str, Any] = schema.get("properties", {}) if isinstance(schema, dict) else {}
    required = set(schema.get("required", []))
    order = [p for p in schema.get("x-fal-order-properties", []) if p in properties]
    order += sorted(p for p in properties if p not in order)
    missing = sorted(required - set(properties))
    if missing:
        raise SpecErrors(
            [
                SpecError(
                    doc.spec.source,
                    json_pointer([*pointer, "required"]),
                    f"required properties {missing} are not defined in 'properties'",
                )
            ]
        )
    is_input = name == doc.spec.input_schema
    reserved = {"self", *OPTION_NAMES} if is_io else {"self"}
    params = _param_names(order, reserved)
    fields = []
    for prop in order:
        node = properties[prop]
        prop_pointer = [*pointer, "properties", prop]
        param = params[prop]
        field_type = typer.type_of(node, prop_pointer)
        fields.append(
            Field(
                name=prop,
                param=param,
                type=field_type,
                required=prop in required,
                default=copy.deepcopy(node["default"]) if "default" in node else MISSING,
                title=str(node.get("title", "")),
                description=str(node.get("description", "")).strip(),
                examples=tuple(node.get("examples", ())),
                constraints=_constraints(node),
                file=is_input and _takes_file(prop, node, field_type),
            )
        )
    dcg_schema = _dcg_schema(schema, order, lambda ref: _dcg_ref(refs[ref], module))
    return Model(
        name=name,
        class_name=class_name,
        schema=dcg_schema,
        fields=tuple(fields),
        description=str(schema.get("description", "")).strip(),
        shared=module == SHARED_MODULE,
    )


def _param_names(properties: Sequence[str], reserved: set[str]) -> dict[str, str]:
    """Keyword names for properties: a property usable as a keyword keeps its own name, even when
    another one (``a-b``) would sanitise to it; the others get fresh names."""
    taken = reserved | {
        prop
        for prop in properties
        if is_safe_identifier(prop) and not prop.startswith("_") and prop not in reserved
    }
    return {
        prop: prop
        if prop in taken and prop not in reserved
        else unique(param_name(prop, taken), taken, separator="_")
        for prop in properties
    }


def _dcg_ref(ref: ModelRef, module: str) -> str:
    return f"#/$defs/{SHARED_MODULE if ref.shared else module}.{ref.class_name}"


def _dcg_schema(schema: dict[str, Any], order: list[str], rewrite: Any) -> dict[str, Any]:
    """The schema for datamodel-code-generator: properties in display order, refs rewritten."""

    def walk(node: Any, in_value: bool) -> Any:
        if isinstance(node, dict):
            result: dict[str, Any] = {}
            for key, value in node.items():
                if key == "properties" and not in_value and isinstance(value, dict):
                    result[key] = {name: walk(item, False) for name, item in value.items()}
                elif key == "$ref" and not in_value and isinstance(value, str):
                    result[key] = rewrite(ref_target(value))
                elif key == "default" and not in_value and _holds_object(value):
                    # datamodel-code-generator would emit the raw dict as the default of a
                    # model-typed field, which type checkers reject. The client never sends
                    # unset fields, so the server applies this default anyway.
                    continue
                elif key == "description" and not in_value and isinstance(value, str):
                    # fal's descriptions are often indented Python docstrings. They become
                    # docstrings as they are, and Python source cannot hold a NUL.
                    result[key] = inspect.cleandoc(value).replace("\0", "\\x00")
                else:
                    result[key] = walk(value, in_value or key in VALUE_KEYWORDS)
            return result
        if isinstance(node, list):
            return [walk(item, in_value) for item in node]
        return node

    result: dict[str, Any] = walk(schema, False)
    if "properties" in result:
        result["properties"] = {prop: result["properties"][prop] for prop in order}
    result.pop("x-fal-order-properties", None)
    return result


def _holds_object(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(_holds_object(item) for item in value)
    )


def _takes_file(name: str, node: Any, field_type: TypeExpr) -> bool:
    """Whether an input field takes a file by URL: named ``*_url``/``*_urls`` (fal's convention)
    or marked by fal's ``x-fal.max_file_size``, and typed as a string or a list of strings."""
    marked = (
        isinstance(node, dict)
        and isinstance(node.get("x-fal"), dict)
        and ("max_file_size" in node["x-fal"])
    )
    if not (name.endswith(("_url", "_urls")) or marked):
        return False
    options = field_type.options if isinstance(field_type, UnionType) else (field_type,)
    return any(
        option == Primitive("str")
        or (isinstance(option, ListType) and option.item == Primitive("str"))
        for option in options
    )


def _constraints(node: dict[str, Any]) -> Constraints:
    def number(key: str) -> float | None:
        value = node.get(key)
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    def count(key: str) -> int | None:
        value = node.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    minimum, maximum = number("minimum"), number("maximum")
    exclusive_minimum, exclusive_maximum = number("exclusiveMinimum"), number("exclusiveMaximum")
    # OpenAPI 3.0 spells exclusivity as a boolean next to minimum/maximum.
    if node.get("exclusiveMinimum") is True:
        minimum, exclusive_minimum = None, minimum
    if node.get("exclusiveMaximum") is True:
        maximum, exclusive_maximum = None, maximum
    return Constraints(
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        exclusive_maximum=exclusive_maximum,
        min_length=count("minLength"),
        max_length=count("maxLength"),
        min_items=count("minItems"),
        max_items=count("maxItems"),
        pattern=node.get("pattern"),
    )


class _Typer:
    """Maps schema nodes to :data:`TypeExpr` values, reporting what cannot be typed."""

    def __init__(self, source: str, target_of: Any) -> None:
        self.source = source
        self.target_of = target_of

    def error(self, pointer: Sequence[str | int], message: str) -> SpecErrors:
        return SpecErrors([SpecError(self.source, json_pointer(list(pointer)), message)])

    def type_of(self, node: Any, pointer: list[str | int]) -> TypeExpr:
        if not isinstance(node, dict):
            return AnyType()
        options = list(self._options(node, pointer))
        if node.get("nullable") is True:
            options.append(NoneType())
        return _union(options)

    def _options(self, node: dict[str, Any], pointer: list[str | int]) -> Iterator[TypeExpr]:
        if "$ref" in node:
            target = ref_target(node["$ref"])
            assert target is not None  # the loader checked every reference
            yield self.target_of(target)
            return
        for key in ("anyOf", "oneOf"):
            if key in node:
                for index, option in enumerate(node[key]):
                    yield self.type_of(option, [*pointer, key, index])
                return
        if "allOf" in node:
            raise self.error([*pointer, "allOf"], "'allOf' with several schemas is not supported")
        if "enum" in node or "const" in node:
            values = node["enum"] if "enum" in node else [node["const"]]
            scalars = [v for v in values if v is not None]
            if any(isinstance(v, dict | list) for v in scalars):
                raise self.error(pointer, "enum values must be strings, numbers or booleans")
            if scalars:
                yield LiteralType(tuple(dict.fromkeys(scalars)))
            if len(scalars) < len(values):
                yield NoneType()
            return
        kinds = node.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds or []
        if not kinds:
            yield AnyType()
        for kind in kinds:
            if kind == "null":
                yield NoneType()
            elif kind == "array":
                items = node.get("items")
                yield ListType(self.type_of(items, [*pointer, "items"]) if items else AnyType())
            elif kind == "object":
                extra = node.get("additionalProperties")
                value = (
                    self.type_of(extra, [*pointer, "additionalProperties"])
                    if isinstance(extra, dict)
                    else AnyType()
                )
                yield DictType(value)
            elif kind == "string" and node.get("format") == "binary":
                yield Primitive("bytes")
            else:
                yield _PRIMITIVES[kind]


def _union(options: list[TypeExpr]) -> TypeExpr:
    flat: list[TypeExpr] = []
    for option in options:
        for item in option.options if isinstance(option, UnionType) else (option,):
            if item not in flat:
                flat.append(item)
    if any(isinstance(item, AnyType) for item in flat):
        return AnyType()
    # None last, as Python spells optional types.
    flat.sort(key=lambda item: isinstance(item, NoneType))
    return flat[0] if len(flat) == 1 else UnionType(tuple(flat))
