"""``falgen diff``: what changed in fal's endpoint specs, and whether it breaks generated clients.

The comparison is structural. Each endpoint's Input and Output schemas are resolved (``$ref``,
single-item ``allOf`` wrappers, ``anyOf [X, null]`` nullability) and walked side by side, so
renaming a shared component without changing it is no change, and a change deep inside an array
of objects is reported at a readable path such as ``input.loras[].scale``.

Every change gets a severity, which is what decides the version bump of the generated package:

* ``breaking`` - code written against the old client can stop working;
* ``behaviour`` - the same call now does something else (a default changed). Counted as
  breaking, because callers who relied on the old default get different results silently;
* ``addition`` - new capability, nothing existing breaks;
* ``documentation`` - titles, descriptions, examples, field order.

Direction matters, and the rules follow from who reads what:

* Inputs are written by callers and read by fal. Anything fal *no longer accepts* breaks
  callers: a removed field, a field that became required, a narrower or different type, a
  removed enum value, a tightened constraint. Accepting more is an addition.
* Outputs are written by fal and read by callers. Anything callers *can no longer count on*
  breaks them: a removed field, a field no longer required (it may be missing), a field that may
  now be null, a different or wider type. Promising more (a newly required field, a narrower
  type) is an addition. Value-level details of outputs - enum values and numeric or length
  constraints - are reported as additions either way: generated clients must treat output enums
  as open sets anyway, because fal adds values to them without notice.

Annotations of a shared component as a whole (its title and description) are not compared:
what a type is called is not part of the API; its fields are compared instead.

Modules: :mod:`.changes` (the vocabulary), :mod:`.resolve` (schemas as compared),
:mod:`.classify` (the rules), :mod:`.render` (reports), :mod:`.sources` (files, folders, git),
:mod:`.command` (``falgen diff``).
"""

from __future__ import annotations

from .changes import SEVERITIES, Change, ChangeKind, DiffError, DiffReport, SemverBump, Severity
from .classify import diff_specs
from .command import EXIT_BREAKING, EXIT_OK, EXIT_USAGE, add_command, run
from .render import (
    RENDERERS,
    changelog_entry,
    render_json,
    render_markdown,
    render_text,
    use_color,
)
from .sources import load_file, load_folder, load_overlay_effect, load_revision

__all__ = [
    "EXIT_BREAKING",
    "EXIT_OK",
    "EXIT_USAGE",
    "RENDERERS",
    "SEVERITIES",
    "Change",
    "ChangeKind",
    "DiffError",
    "DiffReport",
    "SemverBump",
    "Severity",
    "add_command",
    "changelog_entry",
    "diff_specs",
    "load_file",
    "load_folder",
    "load_overlay_effect",
    "load_revision",
    "render_json",
    "render_markdown",
    "render_text",
    "run",
    "use_color",
]
