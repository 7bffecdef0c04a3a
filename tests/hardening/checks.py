"""Checks of a generated tree that must hold whatever the specs contain."""

from __future__ import annotations

import ast
import io
import keyword
import re
import shlex
import tokenize
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path

import markdown
import yaml

from generator.builder import (
    CLIENT_ATTRIBUTES,
    OPTION_NAMES,
    RESERVED_MODULES,
    SHARED_MODULE,
    build_package,
)
from generator.commands import build_commands
from generator.ir import Package
from generator.loader import load_specs
from generator.models import model_modules
from generator.render import plan_package
from generator.settings import Options
from tests.hardening.strategies import JINJA_RESULTS, TEXT_MARKER

# Names whose call in generated code would mean that spec text became code.
_FORBIDDEN_CALLS = frozenset({"eval", "exec", "compile", "__import__", "system", "popen"})
# Modules the generated, spec-dependent modules may import.
_ALLOWED_IMPORTS = frozenset(
    {"__future__", "builtins", "functools", "importlib", "typing", "typing_extensions", "pydantic"}
)
_SKIPPED_TOKENS = frozenset(
    {
        tokenize.STRING,
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)
# HTML elements the docs pages legitimately contain once converted (spec text adds none).
_DOC_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 5)),
        *("p", "a", "code", "pre", "span", "div", "input", "label"),
        *("table", "thead", "tbody", "tr", "th", "td", "ul", "li"),
        *("dl", "dt", "dd", "strong", "br"),
    }
)
# Those of the site (mkdocs.yml) that change what text means, without the slow highlighting.
_MARKDOWN_EXTENSIONS = [
    "admonition",
    "attr_list",
    "def_list",
    "tables",
    "toc",
    "pymdownx.superfences",
    "pymdownx.tabbed",
]
_MARKDOWN = markdown.Markdown(extensions=_MARKDOWN_EXTENSIONS)
_FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>`{3,})(?P<language>\w+)\n(?P<body>.*?)^(?P=indent)(?P=fence)$",
    re.M | re.S,
)


def render_tree(specs_dir: Path, options: Options) -> tuple[Package, dict[str, str]]:
    """The pure stages (load, IR, models, templates), without formatting: the files as black
    would receive them."""
    package = build_package(load_specs(specs_dir), options)
    units = plan_package(package)
    models = model_modules(package, {unit.models for unit in units if unit.models is not None})
    return package, {unit.path: unit.render(models) for unit in units}


def spec_dependent(files: Mapping[str, str], import_name: str) -> dict[str, str]:
    """The files whose content depends on the specs (not the runtime and CLI copied as is)."""
    static = (f"{import_name}/_runtime/", f"{import_name}/cli/")
    return {
        path: text
        for path, text in files.items()
        if not path.startswith(static) or path.startswith(f"{import_name}/cli/commands/")
    }


# --- Python -------------------------------------------------------------------------------------


def code_tokens(source: str) -> list[tokenize.TokenInfo]:
    """The tokens of ``source`` without string literals (docstrings too) and comments."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [token for token in tokens if token.type not in _SKIPPED_TOKENS]


def check_python(path: str, source: str, import_name: str) -> ast.Module:
    """Compiles; spec text only inside literals; nothing spec-made runs; names valid, unique."""
    compile(source, path, "exec", dont_inherit=True)  # also rejects duplicate parameters
    tree = ast.parse(source, path)
    tokens = code_tokens(source)
    code = " ".join(token.string for token in tokens)
    assert TEXT_MARKER not in code, f"{path}: spec text outside a string literal"
    for token in tokens:
        # As written: the AST holds names folded to NFKC, under which distinct names can clash.
        assert token.type != tokenize.NAME or token.string.isascii(), f"{path}: {token.string!r}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert name not in _FORBIDDEN_CALLS, f"{path}: calls {name}()"
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            assert set(names) <= _ALLOWED_IMPORTS, f"{path}: imports {names}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            own = node.module.startswith(f"{import_name}.")
            assert own or node.module in _ALLOWED_IMPORTS, f"{path}: imports from {node.module}"
    for name in _identifiers(tree):
        assert name.isidentifier() and not keyword.iskeyword(name), f"{path}: name {name!r}"
    _check_unique(path, "module level", _defined(tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            _check_unique(path, f"class {node.name}", _defined(node.body))
    return tree


def _identifiers(tree: ast.AST) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.keyword) and node.arg is not None:
            yield node.arg
        elif isinstance(node, ast.alias):
            yield from (node.asname or node.name).split(".")


def _defined(body: list[ast.stmt]) -> list[str]:
    """Names a block binds by definitions and annotated or plain assignments."""
    names = []
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return names


def _check_unique(path: str, scope: str, names: list[str]) -> None:
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    assert not twice, f"{path}: {scope} defines {twice} more than once"


# --- names in the IR ------------------------------------------------------------------------------


def _safe(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


def check_names(package: Package) -> None:
    """Module names, client attributes, class names and keyword names: valid and unique."""
    modules = [endpoint.module for endpoint in package.endpoints]
    attributes = [endpoint.attribute for endpoint in package.endpoints]
    for name in modules + attributes:
        assert _safe(name) and not name.startswith("_"), name
    assert not set(modules) & RESERVED_MODULES
    assert not set(attributes) & CLIENT_ATTRIBUTES
    _check_unique("package", "modules", modules)
    _check_unique("package", "client attributes", attributes)
    _check_unique("shared", "classes", [model.class_name for model in package.shared_models])
    for endpoint in package.endpoints:
        classes = [model.class_name for model in endpoint.models]
        resources = [endpoint.class_name, "Async" + endpoint.class_name]
        if "realtime" in endpoint.capabilities:
            resources += [name + "Realtime" for name in resources]
        _check_unique(endpoint.module, "classes", classes + resources)
        for name in classes + resources:
            assert _safe(name), name
        params = [field.param for field in endpoint.input.fields]
        _check_unique(endpoint.module, "keyword parameters", [*params, "self", *OPTION_NAMES])
        for name in params:
            assert _safe(name) and not name.startswith("_"), name
    commands = build_commands(package)
    _check_unique("cli", "commands", [command.name for command in commands])
    for command in commands:
        flags = [option.flag for option in command.options]
        flags += [option.negative_flag for option in command.options if option.kind == "bool"]
        _check_unique(command.name, "flags", flags)
        for flag in flags:
            assert re.fullmatch(r"--[A-Za-z0-9][A-Za-z0-9-]*", flag), flag


# --- the other files --------------------------------------------------------------------------


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.tables: list[list[int]] = []  # per table, the number of cells of each row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append(0)
        elif tag in ("td", "th"):
            self.tables[-1][-1] += 1


def check_markdown(path: str, text: str) -> None:
    """Converts; spec text adds no element, table cell or heading; examples still parse."""
    html = _MARKDOWN.reset().convert(text)
    parsed = _Html()
    parsed.feed(html)
    unexpected = set(parsed.tags) - _DOC_TAGS
    assert not unexpected, f"{path}: spec text made HTML elements {sorted(unexpected)}"
    assert parsed.tags["h1"] == 1, f"{path}: {parsed.tags['h1']} top-level headings"
    for table in parsed.tables:
        assert len(set(table)) == 1, f"{path}: table rows with {table} cells"
    for block in _FENCE.finditer(text):
        body = "\n".join(line.removeprefix(block["indent"]) for line in block["body"].split("\n"))
        if block["language"] == "python":
            compile(body, f"{path} (example)", "exec", dont_inherit=True)
        elif block["language"] == "bash":
            shlex.split(body)  # balanced quotes


def check_tree(package: Package, files: Mapping[str, str]) -> None:
    """Everything above, over the files of one tree that depend on the specs."""
    check_names(package)
    for path, text in files.items():
        for result in JINJA_RESULTS:
            assert result not in text, f"{path}: spec text was rendered as a template"
    trees = {}
    for path, text in spec_dependent(files, package.import_name).items():
        if path.endswith(".py"):
            trees[path] = check_python(path, text, package.import_name)
        elif path.endswith(".md"):
            check_markdown(path, text)
    # The templates name the IR's classes: datamodel-code-generator must have kept each name.
    modules = {SHARED_MODULE: package.shared_models}
    modules |= {endpoint.module: endpoint.models for endpoint in package.endpoints}
    for module, models in modules.items():
        tree = trees[f"{package.import_name}/endpoints/{module}.py"]
        defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        missing = {model.class_name for model in models} - defined
        assert not missing, f"{module}: classes {sorted(missing)} were not generated"
    tomllib.loads(files["pyproject.toml"])
    site = yaml.safe_load(files["mkdocs.yml"])
    nav = {next(iter(entry)): next(iter(entry.values())) for entry in site["nav"]}
    categories = {endpoint.category or "other" for endpoint in package.endpoints}
    assert categories <= set(nav), "a category did not survive YAML"
    ids = {next(iter(page)) for name in categories for page in nav[name]}
    assert ids == {endpoint.endpoint_id for endpoint in package.endpoints}
