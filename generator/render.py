"""Render the IR through the Jinja templates into the files of the generated package.

Strings from specs reach the output only through the filters below, which turn them into
Python literals, docstrings, comments-free Markdown cells or TOML strings: never into code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from . import TEMPLATES_DIR
from .builder import SHARED_MODULE
from .commands import build_commands
from .docs import PageEntry, build_site, endpoint_page, md_cell, md_code
from .docstrings import attribute_doc, endpoint_docs, runtime_exports
from .ir import Endpoint, Field, Package, UnionType, accepting_files, fingerprint
from .models import ModelCode
from .output import LINE_LENGTH

RUNTIME_DIR = TEMPLATES_DIR / "runtime"
CLI_DIR = TEMPLATES_DIR / "cli"
ERROR_NAMES = runtime_exports("_errors.py")  # what the package re-exports of the runtime's errors
# What the package re-exports of the rest of the runtime: what users name in their own code.
RUNTIME_NAMES = (
    "ClientConfig",
    "Completed",
    "FileModel",
    "InProgress",
    "Log",
    "NOT_GIVEN",
    "NotGiven",
    "Queued",
    "WebhookPayload",
    "WebhookReplayGuard",
    "fetch_jwks",
    "verify_webhook",
)
if missing := set(RUNTIME_NAMES) - set(runtime_exports("__init__.py")):  # a rename in the runtime
    raise ImportError(f"the runtime no longer exports {sorted(missing)}")


@dataclass(frozen=True)
class Unit:
    """One file of the generated tree, not yet rendered.

    ``key`` digests everything the file's bytes depend on (the template set and the generator
    code are covered by the manifest's salt instead), so a file whose key is unchanged since the
    last generation may be kept as it is on disk. A unit that embeds the pydantic models of a
    module names it in ``models``; ``render`` gets the models code of every such module.
    """

    path: str
    key: str
    render: Callable[[Mapping[str, ModelCode]], str]
    models: str | None = None
    formatted: bool = False  # already as black writes it (the runtime's own source files)


def plan_package(package: Package, compiled: Path | None = None) -> list[Unit]:
    """Every file of the generated package (relative path, unformatted text to come).

    An endpoint's files (module, command, docs page) are keyed by what they depend on: the
    endpoint's fingerprint, the shared models it uses and the package's names. Nothing of them
    is built (no command options, no page) unless the file is rendered, so a generation that
    keeps most endpoints does work for the changed ones only. Files about the whole package are
    rendered at once (cheap) and keyed by their text, so that only formatting them is saved.
    ``compiled``: a folder where compiled templates are kept between runs.
    """
    env = _environment(compiled)
    root = package.import_name
    shared_keys = {model.class_name: fingerprint(model) for model in package.shared_models}

    def endpoint_key(endpoint: Endpoint) -> str:
        """What an endpoint's files depend on besides their template."""
        used = [shared_keys[name] for name in endpoint.shared_models]
        return fingerprint(root, package.distribution, endpoint.fingerprint, used)

    def template(
        path: str,
        name: str,
        context: Callable[[], dict[str, Any]],
        *,
        key: str,
        models: str | None = None,
    ) -> Unit:
        def render(code: Mapping[str, ModelCode]) -> str:
            extra = {"models": code.get(models, _NO_MODELS)} if models is not None else {}
            return env.get_template(name).render(**context(), **extra)

        return Unit(path, fingerprint(name, key), render, models)

    def endpoint_units(page: PageEntry) -> list[Unit]:
        endpoint, key = page.endpoint, endpoint_key(page.endpoint)
        return [
            template(
                f"{root}/endpoints/{endpoint.module}.py",
                "package/endpoint.py.j2",
                lambda: {"endpoint": endpoint},
                key=key,
                models=endpoint.module,
            ),
            template(
                f"{root}/cli/commands/{endpoint.module}.py",
                "cli/command.py.j2",
                lambda: {"command": page.command},
                key=key,
            ),
            template(
                f"docs/{page.path}",
                "docs/endpoint.md.j2",
                lambda: {"page": endpoint_page(package, page), "import_name": root},
                key=key,
            ),
        ]

    def text(path: str, content: str, *, formatted: bool = False) -> Unit:
        return Unit(path, fingerprint(content), lambda _: content, formatted=formatted)

    def static(path: str, source: Path) -> Unit:
        # Kept black-formatted in templates/ (a test checks it), so copied as they are.
        return text(path, _read(source), formatted=True)

    def whole(path: str, name: str, **context: Any) -> Unit:
        return text(path, env.get_template(name).render(package=package, **context))

    commands = build_commands(package)
    site = build_site(package, commands)
    units = [
        whole("pyproject.toml", "package/pyproject.toml.j2"),
        whole("README.md", "package/README.md.j2"),
        whole(
            f"{root}/__init__.py",
            "package/init.py.j2",
            errors=ERROR_NAMES,
            runtime_names=RUNTIME_NAMES,
        ),
        whole(f"{root}/_version.py", "package/version.py.j2"),
        whole(f"{root}/_client.py", "package/client.py.j2"),
        text(f"{root}/py.typed", ""),
        whole(f"{root}/endpoints/__init__.py", "package/endpoints_init.py.j2"),
        # Endpoint modules import the shared one, so its models are always generated with them.
        template(
            f"{root}/endpoints/{SHARED_MODULE}.py",
            "package/shared.py.j2",
            lambda: {},
            key=fingerprint(root, list(shared_keys.values())),
            models=SHARED_MODULE,
        ),
        *(static(f"{root}/_runtime/{p.name}", p) for p in sorted(RUNTIME_DIR.glob("*.py"))),
        *(static(f"{root}/cli/{p.name}", p) for p in sorted(CLI_DIR.glob("*.py"))),
        whole(f"{root}/cli/commands/__init__.py", "cli/commands_init.py.j2", commands=commands),
        whole("mkdocs.yml", "docs/mkdocs.yml.j2", site=site),
        whole("docs/index.md", "docs/index.md.j2", site=site),
        whole("docs/cli.md", "docs/cli.md.j2", site=site),
        whole("docs/shared-types.md", "docs/shared_types.md.j2", site=site),
    ]
    if package.changelog:
        units.append(text("CHANGELOG.md", package.changelog))
    for page in site.pages:
        units += endpoint_units(page)
    return units


_NO_MODELS = ModelCode(imports="", body="")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def _environment(compiled: Path | None = None) -> jinja2.Environment:
    """One environment per process: each template is compiled once (and again when its file
    changes, as the loader checks), or loaded compiled from ``compiled`` (jinja checks that the
    source is the same)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled else None,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., object]] = {
        "pyrepr": pyrepr,
        "docstring": docstring,
        "endpoint_docs": endpoint_docs,
        "attribute_doc": attribute_doc,
        "tomlstr": tomlstr,
        "md_cell": md_cell,
        "md_code": md_code,
        "yamlstr": tomlstr,  # a TOML basic string is also a YAML double-quoted scalar
        "yamlkey": yamlkey,
        "parameter": parameter,
    }
    env.filters.update(filters)
    return env


# --- literals ---------------------------------------------------------------------------------


def pyrepr(value: Any) -> str:
    """A Python literal for a JSON value (``repr`` escapes every string safely)."""
    if isinstance(value, float | int | str | bool) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(pyrepr(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pyrepr(k)}: {pyrepr(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
# Printable ASCII but the double quote and the backslash: written as it is.
_PLAIN = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
# YAML reads a plain (implicit) mapping key of at most 1024 characters.
_YAML_KEY_LIMIT = 1024


def tomlstr(value: str) -> str:
    """A TOML basic string, which is also a YAML double-quoted scalar: printable ASCII as it
    is, every other character escaped. Characters beyond the BMP are escaped as ``\\UXXXXXXXX``:
    JSON's surrogate pairs are invalid TOML, and YAML would read them as two lone surrogates."""
    if _PLAIN.fullmatch(value):  # most names and paths: nothing to escape
        return f'"{value}"'
    escaped = []
    for char in value:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            escaped.append(_SHORT_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            escaped.append(char)
        else:
            escaped.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(escaped) + '"'


def yamlkey(value: str, indent: int) -> str:
    """``value`` as the key of a YAML block mapping entry, colon included; a long key is
    written explicitly (``? key`` then ``:`` on the next line, ``indent`` spaces in)."""
    quoted = tomlstr(value)
    if len(quoted) < _YAML_KEY_LIMIT:
        return quoted + ":"
    return f"? {quoted}\n{' ' * indent}:"


def docstring(text: str, indent: int = 0) -> str:
    """A triple-quoted string literal whose value is ``text``, whatever ``text`` contains."""
    escaped = _UNUSUAL.sub(lambda match: _escape_char(match[0]), text.replace("\\", "\\\\"))
    if escaped.endswith('"'):  # before the closing quotes; first, while it is not escaped yet
        escaped = escaped[:-1] + '\\"'
    escaped = escaped.replace('"""', '\\"\\"\\"')
    lines = escaped.split("\n")
    body = "\n".join([lines[0], *[(" " * indent + line) if line else "" for line in lines[1:]]])
    closing = "\n" + " " * indent if len(lines) > 1 else ""
    return f'"""{body}{closing}"""'


_UNUSUAL = re.compile(r"[^\t\n\x20-\x7e]")  # what _escape_char may have to escape


def _escape_char(char: str) -> str:
    if char in "\n\t" or char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def parameter(field: Field, indent: int) -> str:
    """``field`` as a keyword-only parameter line of the client methods, as black lays it out.

    black parenthesises a top-level union that does not fit on its line, where ruff's formatter
    would split it at the ``|`` without parentheses: such an annotation is written in
    parentheses already, which both keep. Other annotations are left to the formatter.
    """
    type_ = accepting_files(field.type) if field.file else field.type
    annotation = type_.annotation()
    tail = ","
    if field.optional:
        annotation += " | _rt.NotGiven"
        tail = " = _rt.NOT_GIVEN,"
    line = f"{field.param}: {annotation}{tail}"
    is_union = field.optional or isinstance(type_, UnionType)
    if not is_union or indent + str_width(line) <= LINE_LENGTH:
        return line
    return f"{field.param}: (\n{' ' * (indent + 4)}{annotation}\n{' ' * indent}){tail}"


def str_width(text: str) -> int:
    """Columns ``text`` takes, as formatters count them: wide East Asian characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
