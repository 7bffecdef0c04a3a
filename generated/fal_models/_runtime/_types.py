"""Small shared types of the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, final


@final
class NotGiven:
    """The default of every optional endpoint argument: unset fields are not sent, so the
    server's own defaults apply (``None`` cannot mark this, as it is a valid value for
    nullable fields)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Priority = Literal["normal", "low"]


def given_options(options: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The options given: unknown keyword arguments (which ``**options`` would otherwise
    swallow) are rejected, and None means "not given", as it does for fal-client."""
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(map(repr, unknown))}: neither an input "
            f"field of this endpoint nor an option ({', '.join(sorted(allowed))})"
        )
    return {name: value for name, value in options.items() if value is not None}
