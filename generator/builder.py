"""Build the IR from loaded spec documents.

Steps per document: shape the component schemas into the JSON Schema forms the models are made
from (:class:`_Shaper`), keep what the Input and Output reach, check defaults and examples
against their schemas, and type every field. Across documents: models that are structurally
identical in two or more endpoints are defined once in the private shared module, and every
endpoint module imports them under their own names.

A problem in one document never stops the others: what can be worked around is (``degraded``),
an endpoint whose input cannot be built is left out (``skipped``); both are listed in
``Package.problems``.

Schema rules (one place each, general JSON Schema / OpenAPI rules, never per endpoint):

* OpenAPI 3.0's ``nullable: true`` becomes a ``null`` in the type list, and its boolean
  ``exclusiveMinimum``/``exclusiveMaximum`` the numeric JSON Schema form;
* ``anyOf: [<scalar schema>, {type: null}]`` becomes that scalar schema with ``null`` in its
  type list: one annotated field (``Annotated[int | None, Field(ge=1)]``), no wrapper class;
* constraints of a scalar that is one of several types of a union (``anyOf: [{type: object},
  {type: number, maximum: 4}]``) are documented but not checked by the client: a model field
  cannot carry them without a wrapper class that callers would have to construct;
* ``prefixItems`` is a tuple (see the loader for ``items`` written as an object keyed by
  positions); ``const`` is a one-value ``Literal``;
* a default that its own schema rejects (``default: 4`` of ``enum: ["1", "2", "4"]``, a URL
  string default of a ``File`` reference) is admitted by the field's type: the schema becomes
  ``anyOf: [<schema>, {const: <default>}]`` (an enum gets the value), so that leaving the field
  out and passing the documented default are both accepted;
* an example that its schema rejects is reported and not used (``Endpoint.example_input``);
* anything else the models cannot express (``allOf`` of several schemas, object enum values,
  ``required`` names without a property) is untyped or ignored, with a problem.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import json
import keyword
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    PicklesLazily,
    Primitive,
    Problem,
    TupleType,
    TypeExpr,
    UnionType,
)
from .loader import SpecDocument, skipped_problem
from .naming import (
    EndpointNames,
    is_safe_identifier,
    param_name,
    pascal_name,
    short_hash,
    snake_name,
    unique,
    words,
)
from .schema import (
    CATALOG_KEY,
    NAMED_SCHEMAS,
    VALUE_KEYWORDS,
    deprecation,
    iter_refs,
    json_pointer,
    ref_target,
    schema_ref,
    single_all_of,
)
from .settings import Options

# The private module of models that several endpoints use (imported by name into each).
SHARED_MODULE = "_shared"
# Its name for datamodel-code-generator, which drops a leading underscore from module names.
DCG_SHARED_MODULE = "shared"
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
# Also the CLI's own commands: an endpoint's command is its module name with dashes.
RESERVED_MODULES = frozenset({SHARED_MODULE, "shared", "__init__", "status", "result", "cancel"})
# Names the generated modules import; models must not shadow them.
FILE_BASE_CLASS = "FileModel"  # the runtime's base of file objects (download(), save())
MODEL_BASE_CLASS = "FalModel"  # the runtime's base of the other models (lenient outputs)
RESERVED_CLASSES = frozenset(
    {
        "Annotated",
        "Any",
        "AsyncIterator",
        "BaseModel",
        "ConfigDict",
        "Field",
        "Iterator",
        MODEL_BASE_CLASS,
        "Literal",
        "RootModel",
        "Sequence",
        "Unpack",
        FILE_BASE_CLASS,
    }
)
# Longest class name made from a schema's name or title; longer ones are cut (with a digest
# of the whole name, so that they stay distinct), so that generated lines can be laid out.
MAX_CLASS_NAME = 64

_PRIMITIVES: dict[str, Primitive] = {
    "string": Primitive("str"),
    "integer": Primitive("int"),
    "number": Primitive("float"),
    "boolean": Primitive("bool"),
}
_SCALAR_TYPES = frozenset(_PRIMITIVES)
# Keys of a schema that say how to combine or nest other schemas: a schema with none of them
# (and no ``$ref``) is a plain value schema.
_COMPOSITE_KEYS = frozenset(
    {"$ref", "anyOf", "oneOf", "allOf", "properties", "items", "prefixItems"}
)
_DOC_KEYS = ("title", "description", "default", "examples", "deprecated")
UNTYPED_OUTPUT = (
    "Untyped: the endpoint's document does not describe its output. Every field of the reply "
    "is kept: read them with ``model_dump()`` or ``model_extra``."
)


@dataclass
class _Doc(PicklesLazily):
    """Per-document working state."""

    # Cached by spec (see generator.cache); the schemas are read only to build the endpoint.
    _LAZY = ("schemas",)

    spec: SpecDocument
    schemas: dict[str, Any]  # shaped components, including hoisted inline objects
    reachable: list[str]  # component names the Input and Output reach, sorted
    hashes: dict[str, str]  # structural hash of each reachable component
    problems: list[Problem]
    bad_examples: set[tuple[str, str]] = field(default_factory=set)  # (component, property)

    @property
    def endpoint_id(self) -> str:
        return self.spec.endpoint_id

    # Components the Output reaches: their models keep the fields a reply has beyond the schema.
    output_reach: frozenset[str] = frozenset()
    # The class name of every reachable component: chosen from this document alone, so that
    # what other endpoints do (sharing a model, say) never renames a class.
    class_names: dict[str, str] = field(default_factory=dict)


DEFAULT_OPTIONS = Options()


def build_package(
    specs: Sequence[SpecDocument],
    options: Options = DEFAULT_OPTIONS,
    skipped: Sequence[Problem] = (),
    names: Mapping[str, EndpointNames] | None = None,
) -> Package:
    """The whole package's IR from loaded specs (see :func:`assemble`)."""
    problems = list(skipped)
    docs = []
    for spec in specs:
        try:
            docs.append(prepare_document(spec))
        except SpecErrors as failed:
            problems += [skipped_problem(error) for error in failed.errors]
    reserved = [spec.endpoint_id for spec in specs]
    return assemble(docs, options, problems, names, reserved)


class EndpointCache(Protocol):
    """Where built endpoints are kept between runs (see ``generator.cache.Cache``)."""

    def load(self, kind: str, *key: str) -> Any: ...

    def store(self, kind: str, value: Any, *key: str) -> None: ...


def assemble(
    docs: Sequence[_Doc],
    options: Options = DEFAULT_OPTIONS,
    skipped: Sequence[Problem] = (),
    names: Mapping[str, EndpointNames] | None = None,
    reserved: Iterable[str] = (),
    cache: EndpointCache | None = None,
) -> Package:
    """The whole package's IR from prepared documents. Endpoints that cannot be built are left
    out; ``Package.problems`` lists them with ``skipped`` (documents that did not load) and
    every repair. ``names``: the names endpoints had before, ``reserved`` the endpoints left
    out, whose names stay theirs (see :func:`endpoint_names`).

    An endpoint depends on its document, its names and which of its models are shared (the
    decisions made across documents): with a ``cache``, one built before from the same three
    is taken from it."""
    problems = list(skipped)
    docs = sorted(docs, key=lambda doc: doc.spec.endpoint_id)
    shared = _choose_shared(docs)
    shared_models = tuple(
        _model(doc, name, class_name, SHARED_MODULE, _shared_refs(doc, shared))
        for (class_name, _), (doc, name) in sorted(shared.items())
    )
    built_ids = [doc.spec.endpoint_id for doc in docs]
    allocated = endpoint_names(built_ids, names, set(reserved) - set(built_ids))
    endpoints = []
    for doc in docs:
        chosen = allocated[doc.spec.endpoint_id]
        context = [doc.spec.source, doc.spec.digest, repr(chosen)]
        context += sorted(
            repr(key) for name in doc.reachable if (key := _shared_key(doc, name)) in shared
        )
        found = cache.load("endpoints", *context) if cache is not None else None
        if found is None:
            try:
                found = (_endpoint(doc, chosen, shared), tuple(doc.problems))
            except SpecErrors as failed:
                problems += [skipped_problem(error) for error in failed.errors]
                continue
            except _BUGS as bug:
                problems.append(skipped_problem(_bug_error(doc.spec.source, bug)))
                continue
            if cache is not None:
                cache.store("endpoints", found, *context)
        endpoints.append(found[0])
        problems += found[1]
    return Package(
        distribution=options.distribution,
        import_name=options.import_name,
        version=options.version,
        changelog=options.changelog,
        endpoints=tuple(endpoints),
        shared_models=shared_models,
        option_names=OPTION_NAMES,
        problems=tuple(sorted(problems, key=lambda problem: (problem.source, problem.pointer))),
    )


# What a document that defeats a rule above could raise (a bug to report, but it is this
# document's alone: the others are generated).
_BUGS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)


def _bug_error(source: str, bug: Exception) -> SpecError:
    message = f"falgen could not build this endpoint ({type(bug).__name__}: {bug})"
    return SpecError(source, "#", message)


def prepare_document(spec: SpecDocument) -> _Doc:
    """:func:`prepare`, any failure a :class:`SpecErrors` of this document; only what building
    the endpoint needs is kept (it is cached, see ``generator.cache``)."""
    try:
        doc = prepare(spec)
    except _BUGS as bug:
        raise SpecErrors([_bug_error(spec.source, bug)]) from None
    doc.spec = dataclasses.replace(spec, document={"info": spec.document["info"]}, published=None)
    doc.schemas = {name: doc.schemas[name] for name in doc.reachable}
    return doc


# --- per document shaping -------------------------------------------------------------------


def prepare(spec: SpecDocument) -> _Doc:
    """Shape one document's schemas, check its defaults and examples, and hash its models."""
    problems = list(spec.problems)
    schemas = dict(spec.schemas)  # shaping makes new nodes: the spec's are left as they are
    shaper = _Shaper(spec.source, schemas, problems)
    for name in sorted(spec.schemas):
        schemas[name] = shaper.shape(schemas[name], name, ["components", "schemas", name], top=True)
    reachable = _reachable(schemas, [spec.input_schema, spec.output_schema])
    doc = _Doc(
        spec=spec,
        schemas=schemas,
        reachable=reachable,
        hashes={},
        problems=problems,
        output_reach=frozenset(_reachable(schemas, [spec.output_schema])),
    )
    _check_values(doc)
    for name in reachable:
        _structural_hash(name, schemas, doc.hashes)
    taken = set(RESERVED_CLASSES)
    io = [spec.input_schema, spec.output_schema]
    doc.class_names = {
        name: unique(_class_name(name), taken)
        for name in dict.fromkeys([*io, *sorted(set(reachable) - set(io))])
    }
    return doc


class _Shaper:
    """Shapes schema nodes (see the module's rules), recording the problems it works around."""

    def __init__(self, source: str, schemas: dict[str, Any], problems: list[Problem]) -> None:
        self.source = source
        self.schemas = schemas
        self.problems = problems

    def degraded(self, pointer: Sequence[str | int], message: str) -> None:
        self.problems.append(Problem(self.source, json_pointer(pointer), message, "degraded"))

    def shape(self, node: Any, owner: str, pointer: list[str | int], *, top: bool = False) -> Any:
        """Hoist inline object models into named components, and shape the node."""
        if not isinstance(node, dict):
            return node
        # Our own annotations (x-falgen-note) document the spec, not the API.
        node = {key: value for key, value in node.items() if not key.startswith("x-falgen-")}
        properties = node.get("properties")
        if not top and isinstance(properties, dict) and properties:
            name = self._component_name(owner, node)
            self.schemas[name] = self.shape(node, name, pointer, top=True)
            return {"$ref": schema_ref(name)}
        result = self._dialect(dict(node), pointer)
        for key in ("items", "additionalProperties"):
            if isinstance(result.get(key), dict):
                result[key] = self.shape(result[key], f"{owner}Item", [*pointer, key])
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if isinstance(result.get(key), list):
                result[key] = [
                    self.shape(item, owner, [*pointer, key, index])
                    for index, item in enumerate(result[key])
                ]
        if isinstance(result.get("properties"), dict):
            result["properties"] = {
                prop: self.shape(
                    value,
                    owner + pascal_name(prop, fallback="Field"),
                    [*pointer, "properties", prop],
                )
                for prop, value in result["properties"].items()
            }
        return self._simplify(result, pointer)

    def _component_name(self, owner: str, node: dict[str, Any]) -> str:
        """A hoisted model's name: its title when free, else prefixed by where it is used."""
        title = node.get("title")
        titled = isinstance(title, str) and title.strip()
        candidates = [pascal_name(str(title))] if titled else []
        candidates += [owner + candidates[0] if candidates else owner]
        for candidate in candidates:
            if candidate not in self.schemas:
                return candidate
        return unique(candidates[-1], set(self.schemas))

    def _dialect(self, node: dict[str, Any], pointer: list[str | int]) -> dict[str, Any]:
        """OpenAPI 3.0 and older JSON Schema spellings in today's JSON Schema."""
        inner = single_all_of(node)
        if isinstance(inner, dict):
            del node["allOf"]
            node = {**inner, **node} if "$ref" not in inner else {"$ref": inner["$ref"], **node}
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if node.get(exclusive) is True and bound in node:
                node[exclusive] = node.pop(bound)
            elif isinstance(node.get(exclusive), bool):
                del node[exclusive]
        if "example" in node:
            example = node.pop("example")
            node.setdefault("examples", [example])
        if node.pop("nullable", False) is True:
            node = _with_null(node)
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not _compiles(pattern):
            del node["pattern"]
            self.degraded(
                [*pointer, "pattern"], "the pattern is not a valid regular expression; ignored"
            )
        return node

    def _simplify(self, node: dict[str, Any], pointer: list[str | int]) -> dict[str, Any]:
        """Forms the models cannot express faithfully, as close as they can."""
        documentation = {key: node[key] for key in _DOC_KEYS if key in node}
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) > 1:
            self.degraded([*pointer, "allOf"], "'allOf' of several schemas; typed as Any")
            return documentation
        values = node["enum"] if "enum" in node else [node["const"]] if "const" in node else []
        if any(isinstance(value, dict | list) for value in values):
            self.degraded(pointer, "enum values that are objects or arrays; typed as Any")
            return documentation
        for key in ("anyOf", "oneOf"):
            options = node.get(key)
            if not isinstance(options, list):
                continue
            typed = [option for option in options if option != {"type": "null"}]
            if len(typed) == 1 and len(options) == 2 and _is_scalar(typed[0]):
                # One annotated field, not a wrapper class: the option with null in its types.
                merged = {**_with_null(typed[0]), **{k: v for k, v in node.items() if k != key}}
                return merged
            if len(typed) > 1:
                node[key] = [_unconstrained(option) for option in options]
        return node


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


def _with_null(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` also accepting ``null``."""
    kinds = node.get("type")
    if isinstance(kinds, str | list) and "$ref" not in node:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        result = {**node, "type": [*kinds, "null"] if "null" not in kinds else kinds}
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            result["enum"] = [*node["enum"], None]
        return result
    documentation = {key: node[key] for key in _DOC_KEYS if key in node}
    rest = {key: value for key, value in node.items() if key not in _DOC_KEYS}
    return {"anyOf": [rest, {"type": "null"}], **documentation}


def _is_scalar(node: Any) -> bool:
    """A plain schema of one scalar type (constraints allowed)."""
    if not isinstance(node, dict) or _COMPOSITE_KEYS & set(node):
        return False
    return node.get("type") in _SCALAR_TYPES


_CONSTRAINTS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
    }
)


def _unconstrained(node: Any) -> Any:
    """A union member without the constraints that would need a wrapper class."""
    if not _is_scalar(node) or not _CONSTRAINTS & set(node):
        return node
    return {key: value for key, value in node.items() if key not in _CONSTRAINTS}


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


# --- defaults and examples ----------------------------------------------------------------------


def _check_values(doc: _Doc) -> None:
    """Defaults its schema rejects are admitted by it; examples it rejects are reported."""
    checker = _Checker(doc.schemas)
    source = doc.spec.source
    for name in doc.reachable:
        properties = doc.schemas[name].get("properties")
        if not isinstance(properties, dict):
            continue
        for prop, node in properties.items():
            if not isinstance(node, dict):
                continue
            pointer = json_pointer(["components", "schemas", name, "properties", prop])
            if "default" in node and not checker.accepts(name, prop, node["default"]):
                default = node["default"]
                admitted = _admitting(node, default)
                if admitted is None:
                    del node["default"]
                    message = f"default {_short(default)} does not match the schema; not used"
                else:
                    properties[prop] = node = admitted
                    message = (
                        f"default {_short(default)} does not match the schema; "
                        "the field also accepts it"
                    )
                doc.problems.append(Problem(source, pointer, message, "degraded"))
            examples = node.get("examples")
            if not (isinstance(examples, list) and examples):
                continue
            if not checker.accepts(name, prop, examples[0], closed=True):
                doc.bad_examples.add((name, prop))
                message = f"example {_short(examples[0])} does not match the schema; not used"
                doc.problems.append(Problem(source, pointer, message, "degraded"))


def _admitting(node: dict[str, Any], value: Any) -> dict[str, Any] | None:
    """``node`` widened to accept the scalar ``value`` too (None for other values)."""
    if isinstance(value, dict | list):
        return None
    if isinstance(node.get("enum"), list) and not _COMPOSITE_KEYS & set(node):
        rest = {key: v for key, v in node.items() if key != "type"}
        return {**rest, "enum": [*node["enum"], value]}
    documentation = {key: node[key] for key in _DOC_KEYS if key in node}
    schema = {key: v for key, v in node.items() if key not in _DOC_KEYS}
    # A union: its members' constraints are documented, not enforced (see the module's rules).
    return {"anyOf": [_unconstrained(schema), {"const": value}], **documentation}


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Checker:
    """Validates values against the property schemas of one document (references resolved).

    ``closed``: objects accept only the properties they declare (unless they say otherwise), as
    the models read them: an example with other fields would lose them on the way.
    """

    _BASE = "urn:falgen:document"

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self._registries: dict[bool, Any] = {}

    def accepts(self, component: str, prop: str, value: Any, *, closed: bool = False) -> bool:
        node = self.schemas[component]["properties"][prop]
        try:
            if not _refers(node):
                text = json.dumps(_closed(node) if closed else node, sort_keys=True)
                return bool(_validator(text).is_valid(value))
            from jsonschema import Draft202012Validator

            pointer = json_pointer(["components", "schemas", component, "properties", prop])
            schema = {"$ref": self._BASE + pointer}
            validator = Draft202012Validator(schema, registry=self._registry(closed))
            return bool(validator.is_valid(value))
        except Exception:  # a schema jsonschema cannot apply (an odd pattern): no verdict
            return True

    def _registry(self, closed: bool) -> Any:
        if closed not in self._registries:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            schemas = _closed(self.schemas) if closed else self.schemas
            root = {"components": {"schemas": schemas}}
            resource = Resource.from_contents(root, default_specification=DRAFT202012)
            self._registries[closed] = Registry().with_resource(self._BASE, resource)
        return self._registries[closed]


def _closed(node: Any) -> Any:
    """``node`` with every object schema that declares properties closed to others."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: {name: _closed(item) for name, item in value.items()}
        if key in NAMED_SCHEMAS and isinstance(value, dict)
        else value
        if key in VALUE_KEYWORDS
        else _closed(value)
        for key, value in node.items()
    }
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        result["additionalProperties"] = False
    return result


def _refers(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_refers(value) for value in node.values())
    if isinstance(node, list):
        return any(_refers(item) for item in node)
    return False


_VALIDATORS: dict[str, Any] = {}


def _validator(schema: str) -> Any:
    """A validator of a reference-free schema, shared by the many identical ones."""
    found = _VALIDATORS.get(schema)
    if found is None:
        from jsonschema import Draft202012Validator

        found = _VALIDATORS[schema] = Draft202012Validator(json.loads(schema))
    return found


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
    lenient = "+extra" if name in doc.output_reach else ""
    return (doc.class_names[name], doc.hashes[name] + lenient)


def _targets(schema: Any) -> set[str]:
    return {target for _, ref in iter_refs(schema, []) if (target := ref_target(ref))}


def _class_name(component: str) -> str:
    name = pascal_name(component)
    if len(name) > MAX_CLASS_NAME:
        name = name[: MAX_CLASS_NAME - 9] + short_hash(name)[:8].upper()
    return name + "Model" if name in RESERVED_CLASSES else name


# --- endpoints --------------------------------------------------------------------------------


def endpoint_names(
    endpoint_ids: Iterable[str],
    previous: Mapping[str, EndpointNames] | None = None,
    reserved: Iterable[str] = (),
) -> dict[str, EndpointNames]:
    """Names for endpoints: unique, readable, and never changed by adding endpoints.

    Names cannot be a function of the id alone and stay readable (``fal-ai/flux-1/schnell`` and
    ``fal-ai/flux-1-schnell`` both read ``flux_1_schnell``), so an endpoint keeps the names it
    was given before (``previous``, from the output's manifest), and a new one takes the first
    free of: its id without fal's own ``fal-ai/`` owner, its whole id (owner included), the
    whole id with a digest of it. Class names follow the module name the same way.
    ``reserved``: endpoints left out this time (a spec that does not load) keep their names
    from being taken; they are not in the result.
    """
    previous = previous or {}
    wanted = set(endpoint_ids)
    names: dict[str, EndpointNames] = {}
    modules: set[str] = set()
    classes: set[str] = set(RESERVED_CLASSES)
    for endpoint_id in sorted(wanted | set(reserved)):  # the names they had, if still usable
        kept = previous.get(endpoint_id)
        if kept is not None and _usable(kept, modules, classes):
            names[endpoint_id] = kept
            modules.add(kept.module)
            classes |= _class_forms(kept.class_name)
    for endpoint_id in sorted(wanted - set(names)):
        full = _module_base(endpoint_id)
        candidates = [_module_base(endpoint_id.removeprefix("fal-ai/")), full]
        candidates.append(f"{full[: MAX_MODULE_NAME - 9]}_{short_hash(endpoint_id)}")
        module = next(name for name in candidates if name not in modules)
        class_candidates = [pascal_name(module), pascal_name(full)]
        class_candidates.append(pascal_name(candidates[-1]))
        class_name = next(name for name in class_candidates if not _class_forms(name) & classes)
        names[endpoint_id] = EndpointNames(module, class_name)
        modules.add(module)
        classes |= _class_forms(class_name)
    return {endpoint_id: names[endpoint_id] for endpoint_id in sorted(wanted)}


# Longest module name made from an endpoint id; longer ones are cut, with a digest of the id.
MAX_MODULE_NAME = 60


def _module_base(text: str) -> str:
    name = snake_name(text, fallback="endpoint")
    if keyword.iskeyword(name) or name in RESERVED_MODULES or name in CLIENT_ATTRIBUTES:
        name += "_endpoint"
    if len(name) > MAX_MODULE_NAME:
        name = f"{name[: MAX_MODULE_NAME - 9]}_{short_hash(text)}"
    return name


def _class_forms(class_name: str) -> set[str]:
    """The classes an endpoint module defines for its resource (see the endpoint template)."""
    return {prefix + class_name + suffix for prefix in ("", "Async") for suffix in ("", "Realtime")}


def _usable(names: EndpointNames, modules: set[str], classes: set[str]) -> bool:
    """Whether recorded names are still valid and free (a manifest is not trusted blindly)."""
    module, class_name = names.module, names.class_name
    return (
        is_safe_identifier(module)
        and module == _module_base(module)
        and len(module) <= MAX_MODULE_NAME
        and module not in modules
        and is_safe_identifier(class_name)
        and class_name == pascal_name(class_name)
        and len(class_name) <= MAX_CLASS_NAME
        and not _class_forms(class_name) & classes
    )


def _endpoint(
    doc: _Doc, names: EndpointNames, shared: dict[_SharedKey, tuple[_Doc, str]]
) -> Endpoint:
    spec = doc.spec
    module, class_name = names.module, names.class_name
    # A model named like the resource classes is renamed (and so not imported from the shared
    # module): the endpoint's names are fixed, its models' names are this document's.
    resource = _class_forms(class_name)
    class_names = dict(doc.class_names)
    taken = set(class_names.values()) | resource
    for name, chosen in doc.class_names.items():
        if chosen in resource:
            class_names[name] = unique(chosen + "Model", taken)
    io = (spec.input_schema, spec.output_schema)
    shared_used = {
        name
        for name in doc.reachable
        if name not in io
        and class_names[name] == doc.class_names[name]
        and _shared_key(doc, name) in shared
    }
    local = [name for name in doc.reachable if name not in shared_used]
    refs = {name: ModelRef(class_names[name], shared=False) for name in local}
    refs |= {name: ModelRef(_shared_key(doc, name)[0], shared=True) for name in shared_used}
    models = {name: _model(doc, name, refs[name].class_name, module, refs) for name in local}
    info = spec.document["info"]
    metadata = info.get("x-fal-metadata", {})
    # fal's catalogue entry (display name, description, status...), kept by falgen fetch.
    catalog = info.get(CATALOG_KEY, {})
    input_model = models[spec.input_schema]
    example_input = {
        field.name: field.examples[0]
        for field in input_model.fields
        if field.examples and (spec.input_schema, field.name) not in doc.bad_examples
    }
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
        deprecation=deprecation(info),
        tags=tuple(str(tag) for tag in catalog.get("tags", ())),
        input=input_model,
        output=models[spec.output_schema],
        models=tuple(models[name] for name in local),
        shared_models=tuple(sorted(refs[name].class_name for name in shared_used)),
        capabilities=tuple(sorted(set(info.get("x-falgen-capabilities", [])))),
        example_input=example_input,
    )


def _model(doc: _Doc, name: str, class_name: str, module: str, refs: dict[str, ModelRef]) -> Model:
    """One model's fields and the JSON schema (refs pointing at dcg ``$defs``) that produces it."""
    schema = doc.schemas[name]
    pointer = ["components", "schemas", name]
    is_io = name in (doc.spec.input_schema, doc.spec.output_schema)
    untyped = name == doc.spec.output_schema and doc.spec.untyped_output

    typer = _Typer(refs.__getitem__)
    properties: dict[str, Any] = schema.get("properties", {}) if isinstance(schema, dict) else {}
    required = set(schema.get("required", []))
    order = [p for p in schema.get("x-fal-order-properties", []) if p in properties]
    order += sorted(p for p in properties if p not in order)
    missing = sorted(required - set(properties))
    if missing and module != SHARED_MODULE:  # a shared model's problems are its endpoints'
        doc.problems.append(
            Problem(
                doc.spec.source,
                json_pointer([*pointer, "required"]),
                f"required properties {missing} are not defined in 'properties'; ignored",
                "degraded",
            )
        )
    is_input = name == doc.spec.input_schema
    reserved = {"self", *OPTION_NAMES} if is_io else {"self"}
    params = _param_names(order, reserved)
    fields = []
    for prop in order:
        node = properties[prop]
        param = params[prop]
        field_type = typer.type_of(node)
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
                deprecated=node.get("deprecated") is True,
            )
        )
    dcg_schema = _dcg_schema(
        {**schema, "required": sorted(required & set(properties))},
        order,
        lambda ref: _dcg_ref(refs[ref], module),
        lenient=name in doc.output_reach,
    )
    untyped = untyped or (not fields and name == doc.spec.output_schema)
    if untyped and not dcg_schema.get("description"):
        dcg_schema["description"] = UNTYPED_OUTPUT
    return Model(
        name=name,
        class_name=class_name,
        schema=dcg_schema,
        fields=tuple(fields),
        description=str(schema.get("description", "")).strip(),
        shared=module == SHARED_MODULE,
        untyped=untyped,
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
    return f"#/$defs/{DCG_SHARED_MODULE if ref.shared else module}.{ref.class_name}"


def _dcg_schema(
    schema: dict[str, Any], order: list[str], rewrite: Any, *, lenient: bool
) -> dict[str, Any]:
    """The schema for datamodel-code-generator: properties in display order, refs rewritten,
    only what the model code needs (no examples, no titles that repeat the property's name).

    ``lenient`` models (reachable from an output) keep the fields a reply has beyond the schema.
    """

    def walk(node: Any, in_value: bool, name: str = "") -> Any:
        if isinstance(node, dict):
            result: dict[str, Any] = {}
            for key, value in node.items():
                if key == "properties" and not in_value and isinstance(value, dict):
                    result[key] = {prop: walk(item, False, prop) for prop, item in value.items()}
                elif key == "$ref" and not in_value and isinstance(value, str):
                    result[key] = rewrite(ref_target(value))
                elif not in_value and key in ("examples", "deprecated"):
                    continue  # examples belong in the docs
                elif not in_value and key == "format" and value != "binary":
                    continue  # documented, not enforced: uri, uuid4... are sent as strings
                elif key == "title" and not in_value and _repeats(value, name):
                    continue
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
                    result[key] = walk(value, in_value or key in VALUE_KEYWORDS, name)
            return result
        if isinstance(node, list):
            return [walk(item, in_value, name) for item in node]
        return node

    result: dict[str, Any] = walk(schema, False)
    if "properties" in result:
        result["properties"] = {prop: result["properties"][prop] for prop in order}
    result.pop("x-fal-order-properties", None)
    result.pop("title", None)  # the class is named by its $defs key
    if not result.get("required"):
        result.pop("required", None)
    if lenient and "additionalProperties" not in result:
        result["additionalProperties"] = True
    return result


def _repeats(title: Any, name: str) -> bool:
    """Whether a title only repeats the property's name (``Image Size`` for ``image_size``)."""
    return isinstance(title, str) and (
        not name or [w.lower() for w in words(title)] == [w.lower() for w in words(name)]
    )


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

    return Constraints(
        minimum=number("minimum"),
        maximum=number("maximum"),
        exclusive_minimum=number("exclusiveMinimum"),
        exclusive_maximum=number("exclusiveMaximum"),
        min_length=count("minLength"),
        max_length=count("maxLength"),
        min_items=count("minItems"),
        max_items=count("maxItems"),
        pattern=node.get("pattern") if isinstance(node.get("pattern"), str) else None,
    )


class _Typer:
    """Maps shaped schema nodes to :data:`TypeExpr` values (shaping removed what cannot be
    typed, so every node has a type)."""

    def __init__(self, target_of: Any) -> None:
        self.target_of = target_of

    def type_of(self, node: Any) -> TypeExpr:
        if not isinstance(node, dict):
            return AnyType()
        return _union(list(self._options(node)))

    def _options(self, node: dict[str, Any]) -> Iterator[TypeExpr]:
        if "$ref" in node:
            target = ref_target(node["$ref"])
            yield self.target_of(target) if target is not None else AnyType()
            return
        for key in ("anyOf", "oneOf"):
            if key in node:
                for option in node[key]:
                    yield self.type_of(option)
                return
        if "enum" in node or "const" in node:
            values = node["enum"] if "enum" in node else [node["const"]]
            scalars = [v for v in values if v is not None]
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
            elif kind == "array" and isinstance(node.get("prefixItems"), list):
                yield TupleType(tuple(self.type_of(item) for item in node["prefixItems"]))
            elif kind == "array":
                items = node.get("items")
                yield ListType(self.type_of(items) if items else AnyType())
            elif kind == "object":
                extra = node.get("additionalProperties")
                value = self.type_of(extra) if isinstance(extra, dict) else AnyType()
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
