"""The intermediate representation: what the templates read, built from specs by ``builder``.

Everything here is plain, immutable data. Types are small algebraic values that know how to
spell themselves as Python annotations; nothing else in the IR produces code.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from .errors import printable

JSONValue: TypeAlias = Any


class _Missing:
    """Marks a field that has no default in the spec."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"  # unpickled as this module's MISSING: one marker, compared by identity


MISSING: Any = _Missing()


class PicklesLazily:
    """Pickled in two parts: the fields named in ``_LAZY`` go into a pickle of their own, which
    is unpickled when one of them is first read. Objects loaded by the thousand from the local
    cache (see ``generator.cache``), of which a generation reads little, so cost little.

    Cached properties named in ``_EAGER`` (computed from lazy fields) are computed before
    pickling, so that reading them loads nothing. Lazy fields must have no default.
    """

    _LAZY: ClassVar[tuple[str, ...]] = ()
    _EAGER: ClassVar[tuple[str, ...]] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        for name in self._EAGER:
            getattr(self, name)
        state = dict(self.__dict__)
        pending = state.pop(_PENDING, None)
        if pending is None:
            lazy = {name: state.pop(name) for name in self._LAZY}
            pending = pickle.dumps(lazy, protocol=pickle.HIGHEST_PROTOCOL)
        return (_unpickle_lazily, (type(self), state, pending))

    if not TYPE_CHECKING:  # mypy would take any attribute for a lazy one

        def __getattr__(self, name: str) -> Any:
            """Called only for an attribute that is not set: the lazy fields, until loaded."""
            pending = self.__dict__.pop(_PENDING, None) if name in self._LAZY else None
            if pending is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            for key, value in pickle.loads(pending).items():
                self.__dict__.setdefault(key, value)
            return self.__dict__[name]


_PENDING = "_pickled_lazy_fields"


def _unpickle_lazily(cls: type, state: dict[str, Any], pending: bytes) -> Any:
    restored: Any = object.__new__(cls)
    restored.__dict__.update(state)
    restored.__dict__[_PENDING] = pending
    return restored


@dataclass(frozen=True)
class Primitive:
    name: Literal["str", "int", "float", "bool", "bytes"]

    def annotation(self) -> str:
        return self.name


@dataclass(frozen=True)
class AnyType:
    def annotation(self) -> str:
        return "Any"


@dataclass(frozen=True)
class NoneType:
    def annotation(self) -> str:
        return "None"


@dataclass(frozen=True)
class LiteralType:
    values: tuple[str | int | float | bool, ...]

    def annotation(self) -> str:
        return "Literal[" + ", ".join(repr(value) for value in self.values) + "]"


@dataclass(frozen=True)
class ListType:
    item: TypeExpr

    def annotation(self) -> str:
        return f"list[{self.item.annotation()}]"


@dataclass(frozen=True)
class TupleType:
    """A fixed-length array (JSON Schema ``prefixItems``): one type per position."""

    items: tuple[TypeExpr, ...]

    def annotation(self) -> str:
        return "tuple[" + ", ".join(item.annotation() for item in self.items) + "]"


@dataclass(frozen=True)
class DictType:
    value: TypeExpr

    def annotation(self) -> str:
        return f"dict[str, {self.value.annotation()}]"


@dataclass(frozen=True)
class UnionType:
    options: tuple[TypeExpr, ...]

    def annotation(self) -> str:
        return " | ".join(option.annotation() for option in self.options)


@dataclass(frozen=True)
class ModelRef:
    """A named model; ``shared`` ones are defined in the private shared module and imported by
    name into every endpoint module that uses them."""

    class_name: str
    shared: bool

    def annotation(self) -> str:
        return self.class_name


@dataclass(frozen=True)
class FileInputType:
    """A local file given where the API takes a URL: the runtime sends or uploads it."""

    def annotation(self) -> str:
        return "_rt.FileInput"


@dataclass(frozen=True)
class SequenceType:
    """A read-only sequence: unlike ``list``, it accepts lists of any narrower item type."""

    item: TypeExpr

    def annotation(self) -> str:
        return f"Sequence[{self.item.annotation()}]"


TypeExpr: TypeAlias = (
    Primitive
    | AnyType
    | NoneType
    | LiteralType
    | ListType
    | TupleType
    | DictType
    | UnionType
    | ModelRef
    | FileInputType
    | SequenceType
)


def walk_types(type_: TypeExpr) -> Iterator[TypeExpr]:
    """``type_`` and every type inside it."""
    yield type_
    if isinstance(type_, UnionType):
        for option in type_.options:
            yield from walk_types(option)
    elif isinstance(type_, TupleType):
        for item in type_.items:
            yield from walk_types(item)
    elif isinstance(type_, ListType | SequenceType):
        yield from walk_types(type_.item)
    elif isinstance(type_, DictType):
        yield from walk_types(type_.value)


def accepting_files(type_: TypeExpr) -> TypeExpr:
    """``type_`` with every string (also inside lists) widened to accept local files too."""
    if type_ == Primitive("str"):
        return UnionType((type_, FileInputType()))
    if isinstance(type_, ListType):
        return SequenceType(accepting_files(type_.item))
    if isinstance(type_, UnionType):
        return UnionType(tuple(accepting_files(option) for option in type_.options))
    return type_


@dataclass(frozen=True)
class Constraints:
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    pattern: str | None = None

    def describe(self) -> str:
        """Human wording, e.g. ``1 <= value <= 4``; empty when unconstrained."""
        parts = []
        lower = (
            f"{_number(self.minimum)} <= "
            if self.minimum is not None
            else f"{_number(self.exclusive_minimum)} < "
            if self.exclusive_minimum is not None
            else ""
        )
        upper = (
            f" <= {_number(self.maximum)}"
            if self.maximum is not None
            else f" < {_number(self.exclusive_maximum)}"
            if self.exclusive_maximum is not None
            else ""
        )
        if lower or upper:
            parts.append(f"{lower}value{upper}")
        for label, value in (
            ("min length", self.min_length),
            ("max length", self.max_length),
            ("min items", self.min_items),
            ("max items", self.max_items),
        ):
            if value is not None:
                parts.append(f"{label} {value}")
        if self.pattern is not None:
            parts.append(f"pattern {self.pattern}")
        return ", ".join(parts)


def _number(value: float | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@dataclass(frozen=True)
class Field:
    """One property of a model, as the wire sees it and as Python spells it."""

    name: str  # the JSON property name
    param: str  # the keyword argument name in client methods
    type: TypeExpr  # without the optional/None that "not required" adds
    required: bool
    default: JSONValue = MISSING
    title: str = ""
    description: str = ""
    examples: tuple[JSONValue, ...] = ()
    constraints: Constraints = field(default_factory=Constraints)
    file: bool = False  # an input taking a file URL: local files are accepted and sent for it
    deprecated: bool = False  # the document marks the property ``deprecated``

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    @property
    def optional(self) -> bool:
        """Whether callers may leave the field out (the server's default then applies)."""
        return not self.required or self.has_default


@dataclass(frozen=True)
class Model:
    """A named object schema, emitted as one pydantic model."""

    name: str  # the component name in the spec
    class_name: str
    schema: dict[str, Any]  # JSON schema handed to datamodel-code-generator (refs rewritten)
    fields: tuple[Field, ...]
    description: str = ""
    shared: bool = False
    # The document does not describe this model (an empty or missing Output schema): it has no
    # declared fields and keeps every field of the reply (``model_extra``, ``model_dump()``).
    untyped: bool = False

    @property
    def is_file(self) -> bool:
        """Whether this is a file object (fal's ``File``/``Image``: a ``url`` and a
        ``content_type``); such models get ``download()`` and ``save()``."""
        by_name = {field.name: field for field in self.fields}
        url = by_name.get("url")
        return (
            url is not None
            and url.required
            and url.type == Primitive("str")
            and "content_type" in by_name
        )


Capability = Literal["streaming", "realtime"]


@dataclass(frozen=True)
class Problem:
    """Something wrong in a spec that generation worked around (``degraded``) or that kept an
    endpoint out of the package (``skipped``): one line for the user, the manifest and the docs."""

    source: str  # spec path relative to the specs folder
    pointer: str  # JSON pointer into the spec
    message: str  # what is wrong, and what was done about it
    severity: Literal["degraded", "skipped"]

    def __str__(self) -> str:
        """One line of printable text, whatever names from the spec it holds."""
        return f"{printable(self.source)}: {printable(self.pointer)}: {printable(self.message)}"


@dataclass(frozen=True)
class Outline:
    """An endpoint's input and output at a glance (what text about an endpoint without a
    summary is made of), kept apart from its models so that reading it loads none of them."""

    required: tuple[str, ...]  # JSON names of the input fields a call must give
    optional: int  # how many input fields may be left out
    outputs: tuple[str, ...]  # JSON names of the output fields
    required_outputs: tuple[str, ...]  # of those, the ones every output has
    untyped_output: bool  # the document does not describe the output (see Model.untyped)


@dataclass(frozen=True)
class Endpoint(PicklesLazily):
    # The models are loaded from the local cache only for the endpoints whose files are made.
    _LAZY = ("input", "output", "models", "example_input")
    _EAGER = ("fingerprint", "outline")

    endpoint_id: str
    source: str  # spec path relative to the specs folder
    digest: str  # sha256 of the spec file
    module: str  # Python module name inside the package's endpoints folder
    attribute: str  # attribute of the client object
    class_name: str  # resource class; the async one is prefixed with "Async"
    title: str
    summary: str  # one paragraph about the model (fal's catalogue description)
    category: str  # fal's category, e.g. "text-to-image"; empty when unknown
    display_name: str  # fal's display name, e.g. "FLUX.1 [schnell]"; the id when unknown
    deprecation: str  # why the endpoint is deprecated (see schema.deprecation); "" if it is not
    tags: tuple[str, ...]
    input: Model
    output: Model
    models: tuple[Model, ...]  # every model local to the endpoint module, input and output included
    shared_models: tuple[str, ...]  # class names used from the shared module
    capabilities: tuple[Capability, ...]  # sorted
    # The document's examples of input fields (first example of each property) that satisfy the
    # field's schema; those that do not are left out and listed in ``Package.problems``.
    example_input: dict[str, JSONValue]

    @functools.cached_property
    def fingerprint(self) -> str:
        """The endpoint's digest, computed once: its module, CLI command and docs page are all
        keyed by it."""
        return fingerprint(self)

    @functools.cached_property
    def outline(self) -> Outline:
        required = tuple(f.name for f in self.input.fields if not f.optional)
        return Outline(
            required=required,
            optional=len(self.input.fields) - len(required),
            outputs=tuple(f.name for f in self.output.fields),
            required_outputs=tuple(f.name for f in self.output.fields if f.required),
            untyped_output=self.output.untyped,
        )

    @property
    def deprecated(self) -> bool:
        return bool(self.deprecation)

    @property
    def own_name(self) -> str:
        """The display name, on one line, when it is more than the endpoint id; else ""."""
        name = " ".join(self.display_name.split())
        return "" if name == self.endpoint_id else name

    @property
    def example_missing(self) -> tuple[str, ...]:
        """JSON names of the required input fields (without a default) that ``example_input``
        leaves out: the published example, less the values that contradict their schema."""
        return tuple(
            field.name
            for field in self.input.fields
            if not field.optional and field.name not in self.example_input
        )

    @property
    def example_complete(self) -> bool:
        """Whether ``example_input`` is a whole valid input."""
        return not self.example_missing

    @property
    def renamed(self) -> dict[str, str]:
        """Keyword name -> JSON name, for input fields whose names are not usable keywords."""
        return {field.param: field.name for field in self.input.fields if field.param != field.name}

    @property
    def file_fields(self) -> tuple[str, ...]:
        """JSON names of the input fields that take files (local ones are sent or uploaded)."""
        return tuple(field.name for field in self.input.fields if field.file)

    @property
    def app_id(self) -> str:
        """The app part of the id (``owner/alias``), which the queue's request URLs use."""
        parts = self.endpoint_id.split("/")
        size = 3 if parts[0] in ("workflows", "comfy") else 2
        return "/".join(parts[:size])


@dataclass(frozen=True)
class Package:
    distribution: str
    import_name: str
    version: str
    changelog: str  # Markdown release notes; empty when there are none
    endpoints: tuple[Endpoint, ...]
    shared_models: tuple[Model, ...]
    option_names: tuple[str, ...]  # keyword names the runtime reserves in client methods
    problems: tuple[Problem, ...] = ()  # what generation worked around or skipped, by source

    @property
    def skipped(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity == "skipped")


def fingerprint(*values: object) -> str:
    """A digest of IR values, stable across runs and processes.

    The IR is frozen dataclasses over JSON data, tuples and ``MISSING``, whose ``repr`` is
    complete and deterministic (the IR holds no sets, whose order would vary by hash seed).
    """
    return hashlib.sha256(repr(values).encode("utf-8", "surrogatepass")).hexdigest()
