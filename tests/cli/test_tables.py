"""The command tables: flags and value forms derived from the IR, and examples that parse back
into exactly the input they describe (in-process, through the generated parser)."""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.commands import argv_for, build_commands, shell_command
from generator.output import write_tree
from generator.pipeline import Options, generate_tree, load_package
from tests.helpers import SPECS, importable, make_spec, write_spec

IMPORT_NAME = "cli_edge_models"
OPTIONS = Options(distribution="cli-edge-models", import_name=IMPORT_NAME)
EDGE_INPUT: dict[str, Any] = {
    "prompt": {"type": "string", "examples": ['it\'s a "quoted" $HOME `cmd`']},
    "input": {"type": "string", "description": "Clashes with --input.", "examples": ["x"]},
    "json": {"type": "boolean", "examples": [False]},
    "no_wait": {"type": "string"},
    "foo": {"type": "boolean", "examples": [True]},
    "no_foo": {"type": "string", "description": "Clashes with --no-foo of the boolean foo."},
    "percent": {"type": "string", "description": "100% sure, %(prog)s and %s stay literal."},
    "mode": {"type": "string", "enum": ["a b", "c"], "examples": ["a b"]},
    "level": {"type": "integer", "enum": [1, 2, 3], "examples": [2]},
    "steps": {"type": "array", "items": {"type": "integer"}, "examples": [[1, 2]]},
    "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}], "examples": [-3]},
    "config": {"$ref": "#/components/schemas/Config", "examples": [{"depth": 2}]},
    "size": {
        "anyOf": [
            {"$ref": "#/components/schemas/ImageSize"},
            {"type": "string", "enum": ["square", "wide"]},
        ],
        "examples": [{"width": 300, "height": 200}],
    },
    "weights": {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "examples": [{"a": 0.5}],
    },
    "image_url": {"type": "string", "examples": ["https://example.com/a.png"]},
    "tags": {"type": "array", "items": {"type": "string"}, "examples": [["-x", "z"]]},
    "brackets": {"type": "array", "items": {"type": "string"}, "examples": [["[y]"]]},
    "neg": {"type": "string", "default": "", "examples": ["-starts with a dash"]},
    "empty": {"type": "array", "items": {"type": "string"}, "examples": [[]]},
    "ratio": {"type": "number", "examples": [0.25]},
}
SCHEMAS = {
    "Config": {"type": "object", "properties": {"depth": {"type": "integer"}}},
    "ImageSize": {
        "type": "object",
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
    },
}


@pytest.fixture(scope="module")
def edge_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("cli-edge")
    specs = root / "specs"
    write_spec(
        specs,
        make_spec("fal-ai/cli-edge", EDGE_INPUT, schemas=SCHEMAS, required=["prompt"]),
    )
    old = make_spec("fal-ai/cli-old", {"prompt": {"type": "string"}})
    old["info"]["x-fal-catalog"] = {
        "display_name": "Old Model \x1b]0;title\x07",
        "status": "deprecated",
        "category": "text-to-image",
        "description": "Makes images. \x1b[2JSlowly.\n\nSecond paragraph.",
    }
    write_spec(specs, old)
    write_tree(root / "out", generate_tree(specs, OPTIONS))
    with importable(root / "out", IMPORT_NAME):
        yield importlib.import_module(f"{IMPORT_NAME}.cli._app")


def _parse(app: ModuleType, command_name: str, argv: list[str]) -> dict[str, Any]:
    command = app.load_command(command_name)
    spec = importlib.import_module(app.__name__.rsplit(".", 1)[0] + "._spec")
    parser = spec.parser_for(command)
    values: dict[str, Any] = spec.collect(parser, command, parser.parse_args(argv), {})
    return values


def _bash_words(text: str) -> list[str]:
    return shlex.split(text.replace("\\\n", " "))


def test_flags_avoid_the_commands_own_options_and_each_other(edge_cli: ModuleType) -> None:
    command = edge_cli.load_command("cli-edge")
    flags = {option.name: option.flag for option in command.options}
    assert flags["input"] == "--field-input"
    assert flags["json"] == "--field-json"
    assert flags["no_wait"] == "--field-no-wait"
    assert flags["no_foo"] == "--field-no-foo"  # --no-foo switches the boolean foo off
    assert flags["prompt"] == "--prompt"
    kinds = {option.name: (option.kind, option.repeat) for option in command.options}
    assert kinds["steps"] == ("int", True)
    assert kinds["maybe"] == ("int", False)  # nullable: None is left out
    assert kinds["config"] == ("json", False)
    assert kinds["size"] == ("object", False)
    assert kinds["image_url"] == ("file", False)
    assert kinds["level"] == ("choice", False)


def test_the_example_command_parses_back_into_the_example_input(edge_cli: ModuleType) -> None:
    package = load_package(_specs_of(edge_cli), OPTIONS)
    (command,) = [command for command in build_commands(package) if command.name == "cli-edge"]
    argv = _bash_words(command.example)
    assert argv[:2] == ["cli-edge-models", "cli-edge"]
    assert "--neg=-starts with a dash" in argv and "--tags=-x" in argv
    assert argv[argv.index("--brackets") + 1] == '["[y]"]'  # an item would read as an array
    assert _parse(edge_cli, "cli-edge", argv[2:]) == command.endpoint.example_input


def test_help_keeps_percent_signs_and_lists_choices(edge_cli: ModuleType) -> None:
    command = edge_cli.load_command("cli-edge")
    spec = importlib.import_module(f"{IMPORT_NAME}.cli._spec")
    text = " ".join(spec.parser_for(command).format_help().split())
    assert "100% sure, %(prog)s and %s stay literal." in text
    assert "--mode CHOICE" in text and "One of: a b, c." in text  # no metavar with a space
    assert "--level {1,2,3}" in text


def test_help_shows_display_names_summaries_and_deprecation(
    edge_cli: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert edge_cli.main(["--help"]) == 0
    top = capsys.readouterr().out
    old = top[top.index("  cli-old") :].split("\n")[0]
    assert old.split(None, 1)[1] == "[deprecated] Old Model \\x1b]0;title\\x07: Makes images."
    assert "  cli-edge" in top and "  status " in top  # every command, the queue ones too
    assert edge_cli.main(["cli-old", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Deprecated: fal lists it as deprecated; it may stop working." in text
    assert "Old Model \\x1b]0;title\\x07. Makes images. \\x1b[2JSlowly." in text
    assert "Endpoint: fal-ai/cli-old (text-to-image)." in text
    assert "\x1b" not in top + text


def test_an_unknown_command_is_a_usage_error(
    edge_cli: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert edge_cli.main(["cli-nope"]) == 2
    assert "argument COMMAND: invalid choice: 'cli-nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--level", "3"], {"level": 3}),
        (["--steps", "1", "--steps", "2"], {"steps": [1, 2]}),
        (["--steps", "[4, 5]"], {"steps": [4, 5]}),
        (["--size", "wide"], {"size": "wide"}),
        (["--size", "10X20"], {"size": {"width": 10, "height": 20}}),
        (["--config", '{"depth": 1}'], {"config": {"depth": 1}}),
        (["--foo", "--no-foo"], {"foo": False}),
        (["--field-json"], {"json": True}),
        (["--maybe=-1"], {"maybe": -1}),
    ],
)
def test_value_forms(edge_cli: ModuleType, argv: list[str], expected: dict[str, Any]) -> None:
    assert _parse(edge_cli, "cli-edge", ["--prompt", "p", *argv]) == {"prompt": "p", **expected}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--level", "4"], "argument --level: invalid choice: '4' (choose from 1, 2, 3)"),
        (["--steps", "x"], "argument --steps: expected an integer, got 'x'"),
        (["--steps", "[1"], "argument --steps: invalid JSON"),
        (["--config", "{"], "argument --config: invalid JSON"),
        (["--size", "big"], "expected a preset (square, wide), WIDTHxHEIGHT or a JSON object"),
    ],
)
def test_value_errors_name_the_option(
    edge_cli: ModuleType, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse(edge_cli, "cli-edge", ["--prompt", "p", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", build_commands(load_package(SPECS)), ids=lambda command: command.name
)
def test_every_documented_example_parses_back(command: Any) -> None:
    # The committed package (generated/ is on sys.path, see tests/conftest.py).
    app = importlib.import_module("fal_models.cli._app")
    argv = _bash_words(command.example)
    assert argv[:2] == ["fal-models", command.name]
    assert _parse(app, command.name, argv[2:]) == command.endpoint.example_input


def test_shell_command_quotes_every_word_safely() -> None:
    words = ["fal-models", "x", "--prompt", "it's $HOME", "--style", "a b", "--flag"]
    text = shell_command(words, width=1000)
    assert shlex.split(text) == words
    assert text == "fal-models x --prompt 'it'\"'\"'s $HOME' --style 'a b' --flag"
    assert shlex.split(shell_command(["p", "c", "--q", "don't"])) == ["p", "c", "--q", "don't"]
    assert '"don\'t"' in shell_command(["p", "c", "--q", "don't"])


def test_argv_for_leaves_out_nulls_and_unknown_fields() -> None:
    (command, *_) = build_commands(load_package(SPECS))
    argv = argv_for(command, {"prompt": "p", "seed": None, "not_a_field": 1})
    assert argv == ["fal-models", command.name, "--prompt", "p"]


def _specs_of(app: ModuleType) -> Path:
    # generated into <root>/out; the specs were written to <root>/specs
    assert app.__file__ is not None
    return Path(app.__file__).parents[3] / "specs"


def test_json_values_can_be_read_from_files(edge_cli: ModuleType, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"depth": 7}')
    assert _parse(edge_cli, "cli-edge", ["--prompt", "p", "--config", f"@{config}"]) == {
        "prompt": "p",
        "config": {"depth": 7},
    }
    spec = importlib.import_module(f"{IMPORT_NAME}.cli._spec")
    parser = spec.parser_for(edge_cli.load_command("cli-edge"))
    with pytest.raises(SystemExit):
        parser.parse_args(["--config", f"@{tmp_path / 'missing.json'}"])
    # Text options keep a leading @ as it is.
    assert _parse(edge_cli, "cli-edge", ["--prompt", "@someone"])["prompt"] == "@someone"
