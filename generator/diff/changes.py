"""The change vocabulary of ``falgen diff``: what a change is, how severe, and what a set of
changes calls for (exit status, version bump)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

Severity = Literal["breaking", "behaviour", "deprecation", "addition", "documentation"]
SEVERITIES: tuple[Severity, ...] = (
    "breaking",
    "behaviour",
    "deprecation",
    "addition",
    "documentation",
)
Direction = Literal["input", "output"]
SemverBump = Literal["major", "minor", "patch"]


class ChangeKind(StrEnum):
    """What changed; the severity depends on the kind *and* on where it happened."""

    ENDPOINT_ADDED = "endpoint-added"
    ENDPOINT_REMOVED = "endpoint-removed"
    ENDPOINT_DEPRECATED = "endpoint-deprecated"
    CAPABILITY_ADDED = "capability-added"
    CAPABILITY_REMOVED = "capability-removed"
    FIELD_ADDED = "field-added"
    FIELD_REMOVED = "field-removed"
    BECAME_REQUIRED = "became-required"
    BECAME_OPTIONAL = "became-optional"
    TYPE_CHANGED = "type-changed"
    ENUM_VALUE_ADDED = "enum-value-added"
    ENUM_VALUE_REMOVED = "enum-value-removed"
    CONSTRAINT_TIGHTENED = "constraint-tightened"
    CONSTRAINT_LOOSENED = "constraint-loosened"
    DEFAULT_CHANGED = "default-changed"
    TITLE_CHANGED = "title-changed"
    DESCRIPTION_CHANGED = "description-changed"
    EXAMPLES_CHANGED = "examples-changed"
    ORDER_CHANGED = "order-changed"
    METADATA_CHANGED = "metadata-changed"


@dataclass(frozen=True)
class Change:
    """One difference between two versions of an endpoint.

    ``path`` is empty for the endpoint itself; ``status``, ``capabilities``, ``summary``,
    ``category``, ``display_name``, ``description`` or ``tags`` for its metadata; and
    ``input.<field>...``/``output.<field>...`` inside its schemas, where ``[]`` steps into
    array items and ``{}`` into map values.
    """

    endpoint_id: str
    path: str
    kind: ChangeKind
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "endpoint_id": self.endpoint_id,
            "path": self.path,
            "kind": self.kind.value,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class DiffReport:
    """All changes between two sets of specs, ordered by endpoint, severity, then path."""

    changes: tuple[Change, ...] = ()

    @property
    def is_breaking(self) -> bool:
        """True when any change is breaking, behaviour changes included."""
        return any(change.severity in ("breaking", "behaviour") for change in self.changes)

    def semver_bump(self) -> SemverBump | None:
        """The version bump the changes call for; None when there is nothing to release."""
        severities = {change.severity for change in self.changes}
        if severities & {"breaking", "behaviour"}:
            return "major"
        if severities & {"deprecation", "addition"}:  # semver: deprecating is a minor release
            return "minor"
        if "documentation" in severities:
            return "patch"
        return None

    def counts(self) -> dict[Severity, int]:
        counted = Counter(change.severity for change in self.changes)
        return {severity: counted[severity] for severity in SEVERITIES}

    def by_endpoint(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.endpoint_id, []).append(change)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "breaking": self.is_breaking,
            "semver_bump": self.semver_bump(),
            "counts": dict(self.counts()),
            "endpoints": list(self.by_endpoint()),
            "changes": [change.to_dict() for change in self.changes],
        }


class DiffError(Exception):
    """The inputs cannot be compared (a document without queue paths, a bad git revision...)."""
