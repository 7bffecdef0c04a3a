"""Parsing endpoint outputs: strictly for final results, leniently for partial ones."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

from . import _errors

OutT = TypeVar("OutT", bound=pydantic.BaseModel)


def parse_output(model: type[OutT], data: Any, request_id: str | None = None) -> OutT:
    """The endpoint's output; a reply that does not match the model is an API error."""
    try:
        return model.model_validate(data)
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
    try:
        return model.model_validate(data)
    except pydantic.ValidationError:
        pass
    if not isinstance(data, Mapping):
        raise _errors.APIError(f"expected a JSON object for {model.__name__}", body=data)
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data:
            continue
        try:
            values[name] = _field_adapter(model, name).validate_python(data[key])
        except pydantic.ValidationError:
            continue
    return model.model_construct(_fields_set=set(values), **values)


@functools.lru_cache(maxsize=512)
def _field_adapter(model: type[pydantic.BaseModel], name: str) -> pydantic.TypeAdapter[Any]:
    annotation = model.model_fields[name].annotation
    return pydantic.TypeAdapter(Any if annotation is None else annotation)
