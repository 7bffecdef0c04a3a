"""Parsing endpoint outputs: strict inputs, lenient outputs.

Inputs are validated strictly before anything is sent. Outputs are read as fal's servers send
them, which is not always what their documents say: a reply may leave out a field the document
marks required, or carry fields it does not mention. When parsing a reply (``parse_output``),
a required field the reply leaves out stays unset: it is not in ``model_fields_set`` and reading
it raises ``AttributeError`` (no made-up value takes its place, so a type checker's view of the
field stays true whenever it can be read); fields beyond the schema are kept (``model_extra``).
Anything else that does not match, or a reply that is not a JSON object, is an ``APIError``
carrying the raw body.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import pydantic

from . import _errors

OutT = TypeVar("OutT", bound=pydantic.BaseModel)

# Validation context under which missing required fields are tolerated (see ``FalModel``).
_LENIENT = "falgen_lenient_output"


class FalModel(pydantic.BaseModel):
    """Base of every generated model: strict, except when validating a reply
    (``parse_output``), where required fields the reply leaves out stay unset."""

    # Patterns are Python regular expressions, as the generator checked them (the default
    # engine rejects look-arounds, and the module would not import). Validators are built when
    # first used, not when the module is imported: a call builds its endpoint's input model,
    # and its output model while the request runs (see prepare).
    model_config = pydantic.ConfigDict(regex_engine="python-re", defer_build=True)

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _tolerate_missing(
        cls,
        data: Any,
        handler: pydantic.ValidatorFunctionWrapHandler,
        info: pydantic.ValidationInfo,
    ) -> Any:
        try:
            return handler(data)
        except pydantic.ValidationError as problem:
            context = info.context
            if not (isinstance(context, Mapping) and context.get(_LENIENT)):
                raise
            if not isinstance(data, Mapping) or not _only_missing_here(problem):
                raise
            return _without_missing(cls, data, context)


def _only_missing_here(problem: pydantic.ValidationError) -> bool:
    """Whether every error is a field of this model that the data leaves out (nested models
    tolerate their own missing fields before the error reaches this one)."""
    return all(error["type"] == "missing" and len(error["loc"]) == 1 for error in problem.errors())


def _without_missing(
    model: type[FalModel], data: Mapping[str, Any], context: Mapping[str, Any]
) -> FalModel:
    """``model`` from ``data`` with its present fields validated and the missing ones unset."""
    values: dict[str, Any] = {}
    known: set[str] = set()
    for name, info in model.model_fields.items():
        key = info.alias or name
        known |= {key, name}
        if key in data:
            values[name] = _field_adapter(model, name).validate_python(data[key], context=context)
    extra = {key: value for key, value in data.items() if key not in known}
    if model.model_config.get("extra") != "allow":
        extra = {}
    constructed = model.model_construct(_fields_set=set(values), **values, **extra)
    return constructed


def prepare(model: type[pydantic.BaseModel]) -> None:
    """Build ``model``'s validator now rather than when it first validates (models build on
    first use, see FalModel), e.g. while a request runs, so that its result is not kept waiting.
    A model that cannot be built raises when it validates, as it would have."""
    model.model_rebuild(raise_errors=False)


def parse_output(model: type[OutT], data: Any, request_id: str | None = None) -> OutT:
    """The endpoint's output (see the module's rules); ``APIError`` with the raw body when the
    reply is not a JSON object or does not match the model."""
    if not isinstance(data, Mapping):
        raise _errors.APIError(
            f"the output is not a JSON object (got {type(data).__name__})",
            request_id=request_id,
            body=data,
        )
    try:
        return model.model_validate(data, context={_LENIENT: True})
    except pydantic.ValidationError as problem:
        raise _errors.APIError(
            f"the output does not match {model.__name__}: {problem}",
            request_id=request_id,
            body=data,
        ) from None


def partial_output(model: type[OutT], data: Any) -> OutT:
    """An output, complete when ``data`` validates, else a partial one: the fields present
    and valid are set (typed), the others keep their defaults or are missing
    (``model_fields_set`` tells which came). For streamed and realtime events."""
    if not isinstance(data, Mapping):
        raise _errors.APIError(f"expected a JSON object for {model.__name__}", body=data)
    try:
        return model.model_validate(data, context={_LENIENT: True})
    except pydantic.ValidationError:
        pass
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data:
            continue
        try:
            values[name] = _field_adapter(model, name).validate_python(
                data[key], context={_LENIENT: True}
            )
        except pydantic.ValidationError:
            continue
    return model.model_construct(_fields_set=set(values), **values)


@functools.lru_cache(maxsize=512)
def _field_adapter(model: type[pydantic.BaseModel], name: str) -> pydantic.TypeAdapter[Any]:
    """A validator of one field, its constraints included."""
    info = model.model_fields[name]
    annotation: Any = Any if info.annotation is None else info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return pydantic.TypeAdapter(annotation)
