"""Render the IR through the Jinja templates into the files of the generated package.

Strings from specs reach the output only through the filters below, which turn them into
Python literals, docstrings, comments-free Markdown cells or TOML strings: never into code.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from .builder import SHARED_MODULE
from .commands import build_commands
from .docs import build_site, md_cell, md_code, summary_cell
from .ir import Endpoint, Field, Package
from .models import ModelCode

TEMPLATES_DIR = next(
    path
    for path in (Path(__file__).parent / "templates", Path(__file__).parent.parent / "templates")
    if path.is_dir()
)
RUNTIME_DIR = TEMPLATES_DIR / "runtime"
CLI_DIR = TEMPLATES_DIR / "cli"
ERROR_NAMES = (
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "FalError",
    "FieldError",
    "MissingCredentialsError",
    "MissingDependencyError",
    "NotFoundError",
    "RateLimitError",
    "RealtimeError",
    "RequestFailed",
    "ServerError",
    "TimeoutError",
    "ValidationError",
    "WebhookVerificationError",
)
DOC_WIDTH = 88


def render_package(package: Package, models: dict[str, ModelCode]) -> dict[str, str]:
    """Every file of the generated package: relative path -> text (Python not yet formatted)."""
    env = _environment()
    root = package.import_name
    empty = ModelCode(imports="", body="")

    def render(template: str, **context: Any) -> str:
        return env.get_template(template).render(package=package, **context)

    files = {
        "pyproject.toml": render("package/pyproject.toml.j2"),
        "README.md": render("package/README.md.j2"),
        f"{root}/__init__.py": render("package/init.py.j2", errors=ERROR_NAMES),
        f"{root}/_version.py": render("package/version.py.j2"),
        f"{root}/_client.py": render("package/client.py.j2"),
        f"{root}/py.typed": "",
        f"{root}/endpoints/__init__.py": render("package/endpoints_init.py.j2"),
        f"{root}/endpoints/{SHARED_MODULE}.py": render(
            "package/shared.py.j2", models=models.get(SHARED_MODULE, empty)
        ),
    }
    for endpoint in package.endpoints:
        files[f"{root}/endpoints/{endpoint.module}.py"] = render(
            "package/endpoint.py.j2", endpoint=endpoint, models=models[endpoint.module]
        )
    for path in sorted(RUNTIME_DIR.glob("*.py")):
        files[f"{root}/_runtime/{path.name}"] = path.read_text(encoding="utf-8")
    files.update(_cli_and_docs(package, render))
    return files


def _cli_and_docs(package: Package, render: Callable[..., str]) -> dict[str, str]:
    """The ``cli`` subpackage (static code, a table module per command) and the docs site."""
    root = package.import_name
    commands = build_commands(package)
    files = {
        f"{root}/cli/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(CLI_DIR.glob("*.py"))
    }
    files[f"{root}/cli/commands/__init__.py"] = render("cli/commands_init.py.j2", commands=commands)
    for command in commands:
        files[f"{root}/cli/commands/{command.endpoint.module}.py"] = render(
            "cli/command.py.j2", command=command
        )
    site = build_site(package, commands)
    files["mkdocs.yml"] = render("docs/mkdocs.yml.j2", site=site)
    files["docs/index.md"] = render("docs/index.md.j2", site=site)
    files["docs/cli.md"] = render("docs/cli.md.j2", site=site)
    files["docs/shared-types.md"] = render("docs/shared_types.md.j2", site=site)
    for page in site.pages:
        files[f"docs/{page.path}"] = render("docs/endpoint.md.j2", page=page)
    return files


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., str]] = {
        "pyrepr": pyrepr,
        "docstring": docstring,
        "module_doc": module_doc,
        "endpoint_doc": endpoint_doc,
        "call_doc": call_doc,
        "summary_line": summary_line,
        "tomlstr": tomlstr,
        "md_cell": md_cell,
        "md_code": md_code,
        "summary_cell": summary_cell,
        "yamlstr": tomlstr,  # a JSON string is also a YAML double-quoted scalar
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


def tomlstr(value: str) -> str:
    """A TOML basic string (JSON's string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=True)


def docstring(text: str, indent: int = 0) -> str:
    """A triple-quoted string literal whose value is ``text``, whatever ``text`` contains."""
    escaped = "".join(_escape_char(char) for char in text.replace("\\", "\\\\"))
    escaped = escaped.replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    lines = escaped.split("\n")
    body = "\n".join([lines[0], *[(" " * indent + line) if line else "" for line in lines[1:]]])
    closing = "\n" + " " * indent if len(lines) > 1 else ""
    return f'"""{body}{closing}"""'


def _escape_char(char: str) -> str:
    if char in "\n\t" or char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# --- documentation text -------------------------------------------------------------------------


def paragraphs(text: str, width: int = DOC_WIDTH - 8) -> str:
    """Normalise spec prose: dedent, collapse whitespace inside paragraphs, wrap."""
    blocks = re.split(r"\n\s*\n", textwrap.dedent(text).strip())
    return "\n\n".join(
        textwrap.fill(" ".join(block.split()), width=width, break_long_words=False)
        for block in blocks
        if block.strip()
    )


def summary_line(endpoint: Endpoint) -> str:
    first = paragraphs(endpoint.summary).split("\n\n")[0].replace("\n", " ")
    return f"{endpoint.endpoint_id}: {first}" if first else endpoint.endpoint_id


def module_doc(endpoint_id: str, summary: str) -> str:
    text = f"Endpoint {endpoint_id}."
    if summary.strip():
        text += "\n\n" + paragraphs(summary)
    return docstring(
        text + "\n\nGenerated by falgen from the endpoint's OpenAPI document: do not edit."
    )


def endpoint_doc(endpoint: Endpoint, flavour: str) -> str:
    kind = "asynchronous" if flavour else "synchronous"
    lines = [f"{endpoint.endpoint_id} on the {kind} client."]
    if endpoint.summary:
        lines += ["", paragraphs(endpoint.summary)]
    lines += [
        "",
        "Call it to submit and wait for the output; ``submit`` returns a handle instead,",
        "``run`` calls the endpoint directly and ``handle(request_id)`` re-attaches to a request.",
    ]
    return "\n".join(lines)


def call_doc(endpoint: Endpoint) -> str:
    lines = [
        f"Run {endpoint.endpoint_id} through the queue and return its output.",
        "",
        "Unset arguments are not sent, so the endpoint's own defaults apply.",
        "",
        "Args:",
    ]
    for field in endpoint.input.fields:
        lines.append(_indent(f"{field.param}: {_field_doc(field)}", 4))
    lines.append(_indent("**options: Queue options, see ``SubscribeOptions``.", 4))
    return "\n".join(lines)


def _field_doc(field: Field) -> str:
    parts = [paragraphs(field.description, width=DOC_WIDTH - 16)] if field.description else []
    if field.required and not field.has_default:
        parts.append("Required.")
    if field.has_default:
        parts.append(f"Default: ``{pyrepr(field.default)}``.")
    if constraints := field.constraints.describe():
        parts.append(f"Constraint: {constraints}.")
    return " ".join(parts) or "(no description)"


def _indent(text: str, width: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([" " * width + first, *[" " * (width + 4) + line for line in rest]])
