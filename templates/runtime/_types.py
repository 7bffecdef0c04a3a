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


def check_options(options: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Reject unknown keyword arguments, which ``**options`` would otherwise swallow."""
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(map(repr, unknown))}: neither an input "
            f"field of this endpoint nor an option ({', '.join(sorted(allowed))})"
        )
