"""The documentation site: what each page shows, computed from the IR for thin templates.

Pages: ``docs/index.md`` (endpoints by category), ``docs/endpoints/<module>.md`` (parameters,
output, types, examples), ``docs/shared-types.md``, ``docs/cli.md``, and ``mkdocs.yml``. Every
string from a spec passes through :func:`md_cell`/:func:`md_text`/:func:`md_code` (Markdown) or a
Python/shell literal (examples) before it reaches a page.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .builder import SHARED_MODULE, UNTYPED_OUTPUT
from .commands import Command, first_sentence
from .ir import (
    AnyType,
    DictType,
    Endpoint,
    Field,
    JSONValue,
    ListType,
    LiteralType,
    Model,
    ModelRef,
    NoneType,
    Package,
    Primitive,
    TypeExpr,
    UnionType,
)
from .naming import article, is_safe_identifier, prose

SHARED_PAGE = "shared-types.md"
ENDPOINTS_DIR = "endpoints"
QUEUE_URL = "https://queue.fal.run"
RUN_URL = "https://fal.run"
REALTIME_URL = "wss://fal.run"
WEBHOOK_EXAMPLE = "https://example.com/fal-webhook"
_AUTH = '--header "Authorization: Key $FAL_KEY"'
_PRIMITIVE_NAMES = {
    "str": "string",
    "int": "integer",
    "float": "float",
    "bool": "boolean",
    "bytes": "bytes",
}
_INLINE_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "{": "\\{",
        "}": "\\}",
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
    }
)


_PUNCTUATION = frozenset(string.punctuation)
# What str.splitlines() splits on.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


# --- Markdown escaping ------------------------------------------------------------------------


def md_inline(text: str) -> str:
    """Text that Markdown shows literally: no emphasis, links, HTML or table breaks."""
    return text.translate(_INLINE_ESCAPES)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line)."""
    return md_inline(" ".join(text.split())) or " "


def md_text(text: str) -> str:
    """Prose paragraphs, escaped; a line cannot start a heading, list or quote."""
    return "\n\n".join(
        re.sub(r"^([#>+=-]|\d+[.)])", r"\\\1", md_inline(paragraph)) for paragraph in prose(text)
    )


def md_code(text: str) -> str:
    """An inline code span showing ``text`` exactly, also inside a table."""
    if "`" in text or "|" in text or _LINE_BREAK.search(text):
        # A line break would end a code span. Markdown still reads the text between inline
        # HTML tags (emphasis, links, escapes, attribute lists): every ASCII punctuation
        # character becomes an entity.
        escaped = "".join(f"&#{ord(char)};" if char in _PUNCTUATION else char for char in text)
        return "<code>" + _LINE_BREAK.sub(" ", escaped) + "</code>"
    return f"`{text}`"


def md_json(value: JSONValue) -> str:
    return md_code(json.dumps(value, ensure_ascii=False))


# --- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDoc:
    """One field as a definition-list entry: a term line (name, type, required) and its
    details (description, allowed values, constraints, default), as fal's pages lay them out."""

    term: str  # Markdown, one line
    details: tuple[str, ...]  # Markdown paragraphs, each on one line

    @property
    def definition(self) -> str:
        """The details as the body of a Markdown definition (``:   `` then indented)."""
        return "\n\n    ".join(self.details)


@dataclass(frozen=True)
class TypeSection:
    anchor: str
    name: str
    description: str
    fields: tuple[FieldDoc, ...]


@dataclass(frozen=True)
class Example:
    label: str
    language: str
    code: str

    @property
    def fence(self) -> str:
        """A code fence longer than any run of backticks in the code."""
        longest = max((len(run) for run in re.findall(r"`+", self.code)), default=0)
        return "`" * max(3, longest + 1)


@dataclass(frozen=True)
class PageEntry:
    """An endpoint's page as the index, the command list and the navigation link it: cheap to
    make for every endpoint (the page itself, :class:`EndpointPage`, is made only to render)."""

    # Left out of the repr: the endpoint's fingerprint keys its page.
    endpoint: Endpoint = dataclasses.field(repr=False)
    command: Command
    path: str  # relative to docs/
    title: str  # Markdown: fal's display name, or the endpoint id
    summary: str  # Markdown, never empty: fal's description, or one derived from the schemas

    @property
    def index_entry(self) -> str:
        """The page's cell in the catalogue index: display name (linked) and endpoint id."""
        endpoint_id = md_code(self.endpoint.endpoint_id)
        if not self.endpoint.own_name:
            return f"[{endpoint_id}]({self.path})"
        return f"[{self.title}]({self.path})<br>{endpoint_id}"

    @property
    def index_summary(self) -> str:
        """The summary's first sentence, one table cell; marked when deprecated."""
        text = self.endpoint.summary
        sentence = md_cell(first_sentence(text)) if text.strip() else self.summary
        return f"**Deprecated.** {sentence}" if self.endpoint.deprecated else sentence


@dataclass(frozen=True)
class EndpointPage(PageEntry):
    """Everything an endpoint's page shows."""

    parameters: tuple[FieldDoc, ...]
    output: tuple[FieldDoc, ...]
    output_note: str  # Markdown: what the output is when its schema says nothing
    example_note: str  # Markdown: why the examples are not a whole call, when they are not
    types: tuple[TypeSection, ...]
    examples: tuple[Example, ...]
    queue: tuple[Example, ...]
    webhook: tuple[Example, ...]
    streaming: tuple[Example, ...]
    realtime: tuple[Example, ...]
    realtime_url: str


@dataclass(frozen=True)
class Category:
    name: str
    pages: tuple[PageEntry, ...]


@dataclass(frozen=True)
class ProblemDoc:
    """A spec that generation skipped or degraded, as the index lists it."""

    term: str  # Markdown: the spec file
    definition: str  # Markdown: where in the spec, and what was done


@dataclass(frozen=True)
class Site:
    categories: tuple[Category, ...]
    shared_types: tuple[TypeSection, ...]
    skipped: tuple[ProblemDoc, ...]
    degraded: tuple[ProblemDoc, ...]

    @property
    def pages(self) -> tuple[PageEntry, ...]:
        return tuple(page for category in self.categories for page in category.pages)


def build_site(package: Package, commands: tuple[Command, ...]) -> Site:
    """The site's index: every page's entry (see :func:`endpoint_page` for the pages)."""
    by_category: dict[str, list[PageEntry]] = {}
    for command in commands:
        page = page_entry(command)
        by_category.setdefault(command.endpoint.category or "other", []).append(page)
    shared_links = _Links(package.import_name, SHARED_MODULE, in_shared_page=True)
    return Site(
        categories=tuple(
            Category(name, tuple(pages)) for name, pages in sorted(by_category.items())
        ),
        shared_types=tuple(_type_section(model, shared_links) for model in package.shared_models),
        skipped=_problems(package, "skipped"),
        degraded=_problems(package, "degraded"),
    )


def _problems(package: Package, severity: str) -> tuple[ProblemDoc, ...]:
    return tuple(
        ProblemDoc(
            md_code(problem.source), f"{md_code(problem.pointer)}: {md_cell(problem.message)}"
        )
        for problem in package.problems
        if problem.severity == severity
    )


class _Links:
    """Where a model is documented and imported from, seen from one page."""

    def __init__(self, import_name: str, module: str, *, in_shared_page: bool = False) -> None:
        self.import_name = import_name
        self.module = module
        self.in_shared_page = in_shared_page

    def href(self, ref: ModelRef) -> str:
        anchor = anchor_of(ref.class_name)
        if ref.shared and not self.in_shared_page:
            return f"../{SHARED_PAGE}#{anchor}"
        return f"#{anchor}"

    def import_line(self, ref: ModelRef) -> str:
        # Endpoint modules re-export the shared models they use (the shared module is private).
        return f"from {self.import_name}.endpoints.{self.module} import {ref.class_name}"


def anchor_of(class_name: str) -> str:
    return f"type-{class_name}"


def page_entry(command: Command) -> PageEntry:
    endpoint = command.endpoint
    return PageEntry(
        endpoint=endpoint,
        command=command,
        path=f"{ENDPOINTS_DIR}/{endpoint.module}.md",
        title=md_cell(endpoint.display_name),
        summary=md_text(endpoint.summary) or derived_summary(endpoint),
    )


def endpoint_page(package: Package, entry: PageEntry) -> EndpointPage:
    """The page of ``entry``'s endpoint. It depends on the endpoint, its command, the shared
    models it uses and the package's names only (see ``generator.render``)."""
    endpoint = entry.endpoint
    links = _Links(package.import_name, endpoint.module)
    shared = {model.class_name: model for model in package.shared_models}
    local = {model.class_name: model for model in endpoint.models}
    models = _Models(shared, local)
    io = (endpoint.input.class_name, endpoint.output.class_name)
    snippets = _Snippets(package, entry.command, models, links)
    return EndpointPage(
        endpoint=endpoint,
        command=entry.command,
        path=entry.path,
        title=entry.title,
        summary=entry.summary,
        parameters=_field_docs(endpoint.input, links, python_names=True),
        output=_field_docs(endpoint.output, links, python_names=False),
        output_note=_output_note(endpoint.output),
        example_note=_example_note(endpoint),
        types=tuple(
            _type_section(model, links) for model in endpoint.models if model.class_name not in io
        ),
        examples=snippets.examples(),
        queue=snippets.queue(),
        webhook=snippets.webhook(),
        streaming=snippets.streaming() if "streaming" in endpoint.capabilities else (),
        realtime=snippets.realtime() if "realtime" in endpoint.capabilities else (),
        realtime_url=(
            f"{REALTIME_URL}/{endpoint.endpoint_id}/realtime"  # as the runtime connects
            if "realtime" in endpoint.capabilities
            else ""
        ),
    )


def _type_section(model: Model, links: _Links) -> TypeSection:
    return TypeSection(
        anchor=anchor_of(model.class_name),
        name=model.class_name,
        description=md_text(model.description),
        fields=_field_docs(model, links, python_names=False),
    )


def _field_docs(model: Model, links: _Links, *, python_names: bool) -> tuple[FieldDoc, ...]:
    return tuple(_field_doc(item, links, python_names=python_names) for item in model.fields)


def _field_doc(item: Field, links: _Links, *, python_names: bool) -> FieldDoc:
    term = [md_code(item.name), type_markdown(item.type, links)]
    if not item.optional:
        term.append("**required**")
    details = [md_text(item.description)] if item.description.strip() else []
    if values := allowed_values(item.type):
        details.append("Possible values: " + ", ".join(md_code(str(value)) for value in values))
    if constraints := item.constraints.describe():
        details.append(f"Constraints: {md_code(constraints)}")
    if item.has_default:
        details.append(f"Default: {md_json(item.default)}")
    if item.file:
        details.append("A URL; the Python client and the command line also take a local file.")
    if python_names and item.param != item.name:
        details.append(f"Python keyword: {md_code(item.param)}")
    # md_text keeps paragraph breaks: each is one detail paragraph of the definition.
    paragraphs = tuple(part for detail in details for part in detail.split("\n\n"))
    return FieldDoc(" · ".join(term), paragraphs or ("No description.",))


def _example_note(endpoint: Endpoint) -> str:
    missing = endpoint.example_missing
    if not missing:
        return ""
    names = ", ".join(md_code(name) for name in missing)
    them = "them" if len(missing) > 1 else "it"
    return (
        f"fal's document has no valid example for the required {names}: the calls below leave"
        f" {them} out, so add {them} before running one."
    )


def _output_note(output: Model) -> str:
    return UNTYPED_OUTPUT if output.untyped else ""


def type_markdown(type_: TypeExpr, links: _Links) -> str:
    """A field's type in words, models linked to their sections."""
    if isinstance(type_, Primitive):
        return _PRIMITIVE_NAMES[type_.name]
    if isinstance(type_, LiteralType):
        return "enum"
    if isinstance(type_, ListType):
        return "list of " + type_markdown(type_.item, links)
    if isinstance(type_, DictType):
        return "map of " + type_markdown(type_.value, links)
    if isinstance(type_, UnionType):
        return " or ".join(type_markdown(option, links) for option in type_.options)
    if isinstance(type_, ModelRef):
        return f"[{type_.class_name}]({links.href(type_)})"
    if isinstance(type_, NoneType):
        return "null"
    if isinstance(type_, AnyType):
        return "any"
    return md_cell(type_.annotation())


def allowed_values(type_: TypeExpr) -> tuple[str | int | float | bool, ...]:
    if isinstance(type_, LiteralType):
        return type_.values
    if isinstance(type_, ListType):
        return allowed_values(type_.item)
    if isinstance(type_, UnionType):
        return tuple(value for option in type_.options for value in allowed_values(option))
    return ()


# --- examples -----------------------------------------------------------------------------------


class _Models:
    def __init__(self, shared: Mapping[str, Model], local: Mapping[str, Model]) -> None:
        self.shared = shared
        self.local = local

    def get(self, ref: ModelRef) -> Model:
        return (self.shared if ref.shared else self.local)[ref.class_name]


def python_value(
    value: JSONValue, type_: TypeExpr, models: _Models, links: _Links, imports: set[str]
) -> str:
    """A Python expression of ``type_`` for a JSON value: models are constructed by name."""
    options = type_.options if isinstance(type_, UnionType) else (type_,)
    if isinstance(value, dict):
        for option in options:
            if isinstance(option, ModelRef):
                return _model_value(value, option, models, links, imports)
            if isinstance(option, DictType):
                items = (
                    f"{json.dumps(key)}: {python_value(item, option.value, models, links, imports)}"
                    for key, item in value.items()
                )
                return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        for option in options:
            if isinstance(option, ListType):
                items = (python_value(item, option.item, models, links, imports) for item in value)
                return "[" + ", ".join(items) + "]"
    return _literal(value)


def _model_value(
    value: Mapping[str, JSONValue], ref: ModelRef, models: _Models, links: _Links, imports: set[str]
) -> str:
    imports.add(links.import_line(ref))
    fields = {item.name: item for item in models.get(ref).fields}
    if all(_keyword_safe(key) and key in fields for key in value):
        arguments = (
            f"{key}={python_value(item, fields[key].type, models, links, imports)}"
            for key, item in value.items()
        )
        return f"{ref.class_name}({', '.join(arguments)})"
    return f"{ref.class_name}.model_validate({_literal(value)})"


def _keyword_safe(name: str) -> bool:
    # The model's attribute has the JSON name only when that is a plain identifier.
    return is_safe_identifier(name) and not name.startswith(("_", "model_"))


def _literal(value: JSONValue) -> str:
    """A Python literal (``repr`` escapes strings safely), strings in double quotes as black
    writes them."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        # repr chose single quotes and escaped no quote inside: the same body is valid in "".
        return f'"{text[1:-1]}"'
    return text


class _Snippets:
    """The examples of one endpoint page, all sending the spec's example input."""

    def __init__(self, package: Package, command: Command, models: _Models, links: _Links) -> None:
        self.package = package
        self.command = command
        self.endpoint = command.endpoint
        self.models = models
        self.imports: set[str] = set()
        fields = {item.name: item for item in self.endpoint.input.fields}
        self.arguments = []
        for name, value in self.endpoint.example_input.items():
            item = fields[name]
            code = python_value(value, item.type, models, links, self.imports)
            self.arguments.append(f"{item.param}={code}")
        # Required fields the published example has no valid value for: named, never made up.
        self.missing = [
            f"# {fields[name].param}=...,  required: no valid example published"
            for name in self.endpoint.example_missing
        ]

    # Python: a program around lines that use ``client`` (``aw`` is "await " when async).

    def program(self, body: Callable[[str, str], list[str]], *, asynchronous: bool) -> str:
        root = self.package.import_name
        if not asynchronous:
            lines = [
                f"from {root} import FalClient",
                *sorted(self.imports),
                "",
                "with FalClient() as client:  # the key comes from FAL_KEY",
                *_indent_lines(body("", ""), "    "),
            ]
        else:
            lines = [
                "import asyncio",
                "",
                f"from {root} import AsyncFalClient",
                *sorted(self.imports),
                "",
                "",
                "async def main() -> None:",
                "    async with AsyncFalClient() as client:  # the key comes from FAL_KEY",
                *_indent_lines(body("await ", "async "), "        "),
                "",
                "",
                "asyncio.run(main())",
            ]
        return "\n".join(lines)

    def call(self, target: str, *extra: str) -> list[str]:
        """``target(<example arguments>, *extra)`` over several lines."""
        arguments = [f"{argument}," for argument in (*self.arguments, *extra)] + self.missing
        if not arguments:
            return [f"{target}()"]
        return [f"{target}(", *(f"    {argument}" for argument in arguments), ")"]

    def print_result(self, name: str = "result") -> str:
        """Print the first file's URL when the output has files, else the whole output."""
        for item in self.endpoint.output.fields:
            if not item.required or not _keyword_safe(item.name):
                continue
            if isinstance(item.type, ListType) and _is_file(item.type.item, self.models):
                return f"print({name}.{item.name}[0].url)"
            if _is_file(item.type, self.models):
                return f"print({name}.{item.name}.url)"
        return f"print({name})"

    def python_pair(self, body: Callable[[str, str], list[str]]) -> tuple[Example, Example]:
        return (
            Example("Python", "python", self.program(body, asynchronous=False)),
            Example("Python (async)", "python", self.program(body, asynchronous=True)),
        )

    # The sections.

    @property
    def cli_submit(self) -> str:
        return self.command.example or f"{self.command.program} {self.command.name}"

    def examples(self) -> tuple[Example, ...]:
        attribute = self.endpoint.attribute

        def body(aw: str, _: str) -> list[str]:
            return [*self.call(f"result = {aw}client.{attribute}"), self.print_result()]

        return (
            *self.python_pair(body),
            Example("Command line", "bash", self.cli_submit),
            Example("curl", "bash", self.curl(f"{QUEUE_URL}/{self.endpoint.endpoint_id}")),
        )

    def queue(self) -> tuple[Example, ...]:
        attribute = self.endpoint.attribute

        def body(aw: str, _: str) -> list[str]:
            return [
                *self.call(f"handle = {aw}client.{attribute}.submit"),
                "print(handle.request_id)",
                f"print({aw}handle.status())",
                "# Later, or in another process: re-attach by id and wait for the output.",
                f"later = client.{attribute}.handle(handle.request_id)",
                f"result = {aw}later.result()  # waits until the request completes",
                self.print_result(),
            ]

        program, name = self.command.program, self.command.name
        cli = "\n".join(
            [
                f"REQUEST_ID=$({self.cli_submit} --no-wait)",
                f"{program} status {name} $REQUEST_ID --logs",
                f"{program} result {name} $REQUEST_ID --output-dir images",
                f"{program} cancel {name} $REQUEST_ID",
            ]
        )
        base = f"{QUEUE_URL}/{self.endpoint.app_id}/requests/$REQUEST_ID"
        curl = "\n".join(
            [
                f'curl --url "{base}/status?logs=1" {_AUTH}',
                f'curl --url "{base}" {_AUTH}',
                f'curl --request PUT --url "{base}/cancel" {_AUTH}',
            ]
        )
        return (
            self.python_pair(body)[0],
            Example("Command line", "bash", cli),
            Example("curl", "bash", curl),
        )

    def webhook(self) -> tuple[Example, ...]:
        attribute = self.endpoint.attribute

        def body(aw: str, _: str) -> list[str]:
            submit = self.call(
                f"handle = {aw}client.{attribute}.submit",
                f"webhook_url={_literal(WEBHOOK_EXAMPLE)}",
            )
            return [*submit, "print(handle.request_id)"]

        url = f"{QUEUE_URL}/{self.endpoint.endpoint_id}?fal_webhook={WEBHOOK_EXAMPLE}"
        return (
            self.python_pair(body)[0],
            Example(
                "Command line",
                "bash",
                f"{self.cli_submit} \\\n  --webhook-url {WEBHOOK_EXAMPLE} --no-wait",
            ),
            Example("curl", "bash", self.curl(url)),
        )

    def streaming(self) -> tuple[Example, ...]:
        return (
            *self.python_pair(self._stream_loop),
            Example(
                "curl",
                "bash",
                self.curl(f"{RUN_URL}/{self.endpoint.endpoint_id}/stream", stream=True),
            ),
        )

    def _stream_loop(self, aw: str, async_: str) -> list[str]:
        head = self.call(f"{async_}for output in client.{self.endpoint.attribute}.stream")
        head[-1] += ":"
        return [
            *head,
            "    print(output)  # partial outputs (unknown fields unset), then the output",
        ]

    def realtime(self) -> tuple[Example, ...]:
        def body(aw: str, async_: str) -> list[str]:
            return [
                f"{async_}with client.{self.endpoint.attribute}.realtime() as connection:",
                *_indent_lines(self.call(f"{aw}connection.send"), "    "),
                f"    output = {aw}connection.recv()",
                "    " + self.print_result("output"),
            ]

        return self.python_pair(body)

    def curl(self, url: str, *, stream: bool = False) -> str:
        body = json.dumps(self.endpoint.example_input, indent=2, ensure_ascii=False)
        lines = [
            "curl --no-buffer --request POST" if stream else "curl --request POST",
            f"--url {shlex.quote(url)}",
            _AUTH,
            '--header "Content-Type: application/json"',
            *(['--header "Accept: text/event-stream"'] if stream else []),
            f"--data {shlex.quote(body)}",
        ]
        return " \\\n  ".join(lines)


def _indent_lines(lines: list[str], indent: str) -> list[str]:
    return [indent + line if line else line for line in lines]


def _is_file(type_: TypeExpr, models: _Models) -> bool:
    if not isinstance(type_, ModelRef):
        return False
    url = next((item for item in models.get(type_).fields if item.name == "url"), None)
    return url is not None and url.required and url.type == Primitive("str")


def derived_summary(endpoint: Endpoint) -> str:
    """A summary from what the schemas say, for an endpoint without a description (Markdown).

    E.g. "A text-to-image endpoint: send `prompt` (and 8 optional fields), get `images`,
    `timings` and more."
    """
    outline = endpoint.outline  # not the models: the index makes this for every endpoint
    required, optional = list(outline.required), outline.optional
    if required:
        send = _listing(required, len(required))
        send += f" (and {_count(optional, 'optional field')})" if optional else ""
    else:
        send = f"up to {_count(optional, 'optional field')}" if optional else "an empty input"
    outputs = list(outline.required_outputs or outline.outputs)
    untyped = outline.untyped_output
    get = "its untyped JSON output" if untyped else _listing(outputs, _LISTED_OUTPUTS)
    category = md_cell(endpoint.category) if endpoint.category.strip() else ""
    kind = " ".join(part for part in (article(category).capitalize(), category, "endpoint") if part)
    return f"{kind}: send {send}, get {get}."


_LISTED_OUTPUTS = 3


def _listing(names: list[str], limit: int) -> str:
    """``a``, ``b`` and ``c``; past ``limit`` names, the first ones "and more"."""
    codes = [md_code(name) for name in names]
    if len(codes) > limit:
        return ", ".join(codes[: limit - 1]) + " and more"
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
