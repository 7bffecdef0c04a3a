"""The ``fal-models`` console script, installed and run in a subprocess against the local server."""

from __future__ import annotations

import json
import os
import pty
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from generator.commands import Command, build_commands
from generator.loader import load_specs
from generator.pipeline import load_package
from generator.server import Faults, ServerConfig, ServerURLs, input_digest, running_server
from generator.server.images import png_size, solid_png
from tests.cli.conftest import Installed, Result, submissions
from tests.helpers import SPECS

COMMANDS = build_commands(load_package(SPECS))
BY_NAME = {command.name: command for command in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_each_endpoint_runs_with_flags_and_sends_exactly_its_input(
    command: Command, cli: Any, server: ServerURLs
) -> None:
    # The flags of the endpoint's documented example (the docs show this very command line).
    argv = shlex.split(command.example.replace("\\\n", " "))  # as bash reads continuations
    assert argv[:2] == ["fal-models", command.name]
    endpoint_id = command.endpoint.endpoint_id
    digest = input_digest(_as_sent(command, command.endpoint.example_input))
    before = submissions(server, endpoint_id).get(digest, 0)

    result = cli(*argv[1:], "--json")

    assert result.code == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output) >= {field.name for field in command.endpoint.output.fields if field.required}
    assert submissions(server, endpoint_id).get(digest, 0) == before + 1
    assert "submitted request" in result.stderr  # progress goes to stderr, not into the JSON


def test_human_summary_lists_files_and_fields(cli: Any) -> None:
    result = cli("flux-1-schnell", "--prompt", "a lighthouse", "--num-images", "2", "--quiet")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["images[0]", "images[1]"]
    assert "(1024x768, image/png)" in lines[0]  # the landscape_4_3 default
    assert "prompt: a lighthouse" in lines
    assert result.stderr == ""  # --quiet


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [
        ("ideogram-v2", "--aspect-ratio", "16:9"),
        ("recraft-v2-text-to-image", "--style", "realistic_image/b_and_w"),
        ("imagen4-preview-fast", "--aspect-ratio", "9:16"),
    ],
)
def test_enum_values_with_colons_and_slashes_are_sent_verbatim(
    command: str, flag: str, value: str, cli: Any, server: ServerURLs
) -> None:
    endpoint_id = BY_NAME[command].endpoint.endpoint_id
    name = flag.removeprefix("--").replace("-", "_")
    digest = input_digest({"prompt": "a lighthouse", name: value})
    result = cli(command, "--prompt", "a lighthouse", flag, value, "--json", "-q")
    assert result.code == 0, result.stderr
    assert submissions(server, endpoint_id).get(digest) == 1


def test_invalid_enum_choice_is_a_usage_error_naming_the_flag(cli: Any) -> None:
    result = cli("ideogram-v2", "--prompt", "p", "--aspect-ratio", "5:4")
    assert result.code == 2
    assert (
        "argument --aspect-ratio: invalid choice: '5:4' (choose from 10:16, 16:10" in result.stderr
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: --prompt"),
        (("--prompt", "p", "--num-images", "two"), "argument --num-images: expected an integer"),
        (("--prompt", "p", "--image-size", "huge"), "argument --image-size: expected a preset"),
        (("--prompt", "p", "--bogus", "1"), "unrecognized arguments: --bogus"),
        (("--prompt", "p", "--input", "missing.json"), "argument --input: cannot read"),
    ],
)
def test_usage_errors_exit_2_and_name_the_option(
    args: tuple[str, ...], message: str, cli: Any
) -> None:
    result = cli("flux-1-schnell", *args)
    assert result.code == 2
    assert message in result.stderr


def test_input_rejected_by_the_models_exits_2_naming_the_option(cli: Any) -> None:
    # Valid JSON for the option, invalid for the field: found before anything is sent.
    result = cli("hidream-i1-full", "--prompt", "p", "--loras", '[{"scale": 1}]')
    assert result.code == 2
    assert "argument --loras (0.path): Field required" in result.stderr


def test_image_size_forms(cli: Any, server: ServerURLs, tmp_path: Path) -> None:
    endpoint_id = BY_NAME["flux-1-schnell"].endpoint.endpoint_id
    for value, sent in [
        ("1280x720", {"width": 1280, "height": 720}),
        ('{"width": 640, "height": 480}', {"width": 640, "height": 480}),
        ("portrait_16_9", "portrait_16_9"),
    ]:
        digest = input_digest({"prompt": "size", "image_size": sent})
        result = cli("flux-1-schnell", "--prompt", "size", "--image-size", value, "-q")
        assert result.code == 0, result.stderr
        assert submissions(server, endpoint_id).get(digest) == 1, value


def test_input_file_and_stdin_with_flags_overriding(
    cli: Any, server: ServerURLs, tmp_path: Path
) -> None:
    endpoint_id = BY_NAME["stable-diffusion-v35-large"].endpoint.endpoint_id
    document = {
        "prompt": "from the file",
        "num_images": 2,
        "loras": [{"path": "https://example.com/a.safetensors", "scale": 0.5}],
    }
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document))

    from_file = cli("stable-diffusion-v35-large", "--input", str(path), "--num-images", "1", "-q")
    from_stdin = cli(
        "stable-diffusion-v35-large",
        "--input",
        "-",
        "--seed",
        "7",
        "-q",
        stdin=json.dumps(document),
    )

    assert from_file.code == 0, from_file.stderr
    assert from_stdin.code == 0, from_stdin.stderr
    counts = submissions(server, endpoint_id)
    assert counts.get(input_digest({**document, "num_images": 1})) == 1
    assert counts.get(input_digest({**document, "seed": 7})) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"prompt": "p", "nope": 1}', "argument --input: unknown field(s) 'nope'"),
    ],
)
def test_bad_input_files_are_usage_errors(content: str, message: str, cli: Any) -> None:
    result = cli("flux-1-schnell", "--input", "-", stdin=content)
    assert result.code == 2
    assert message in result.stderr


def test_output_dir_saves_real_images_named_by_request(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "images"
    result = cli(
        "flux-1-schnell",
        "--prompt",
        "p",
        "--image-size",
        "320x200",
        "--num-images",
        "2",
        "--output-dir",
        str(out),
        "--json",
    )
    assert result.code == 0, result.stderr
    request_id = result.stderr.split("submitted request ")[1].split()[0]
    files = sorted(out.iterdir())
    assert [file.name for file in files] == [
        f"{request_id}-images-0.png",
        f"{request_id}-images-1.png",
    ]
    for file in files:
        assert png_size(file.read_bytes()) == (320, 200)
        assert f"saved {file}" in result.stderr
    assert len(json.loads(result.stdout)["images"]) == 2


def test_local_files_are_sent_for_url_fields(cli: Any, server: ServerURLs, tmp_path: Path) -> None:
    image = tmp_path / "input.png"
    image.write_bytes(solid_png(8, 8, (255, 0, 0)))
    result = cli("omnigen-v2", "--prompt", "p", "--input-image-urls", str(image), "--json", "-q")
    assert result.code == 0, result.stderr

    missing = cli("omnigen-v2", "--prompt", "p", "--input-image-urls", str(tmp_path / "no.png"))
    assert missing.code == 2
    assert "argument --input-image-urls: no such file" in missing.stderr


def test_no_wait_then_status_result_and_cancel(cli: Any, tmp_path: Path) -> None:
    submitted = cli("flux-1-schnell", "--prompt", "queued", "--no-wait")
    assert submitted.code == 0, submitted.stderr
    request_id = submitted.stdout.strip()
    assert request_id and "\n" not in request_id

    status = _wait_for_status(cli, "flux-1-schnell", request_id, "COMPLETED")
    assert status["status"] == "COMPLETED"

    # The endpoint id works as well as the command name.
    result = cli("result", "fal-ai/flux-1/schnell", request_id, "--output-dir", str(tmp_path))
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("images[0]: ")
    assert (tmp_path / f"{request_id}-images-0.png").is_file()

    cancel = cli("cancel", "flux-1-schnell", request_id)
    assert cancel.code == 1  # completed requests cannot be cancelled
    assert request_id in cancel.stderr


def test_cancel_a_queued_request(installed: Installed) -> None:
    with running_server(load_specs(SPECS), ServerConfig(queue_delay=30)) as urls:
        env = installed.env(urls)
        run = _runner(installed, env)
        request_id = run("imagen4-preview", "--prompt", "a lighthouse", "--no-wait").stdout.strip()
        status = run("status", "imagen4-preview", request_id)
        assert status.code == 0 and status.stdout.startswith("IN_QUEUE (position 0)")
        cancel = run("cancel", "imagen4-preview", request_id)
        assert cancel.code == 0, cancel.stderr
        assert cancel.stdout.strip() == f"cancellation requested for {request_id}"


def test_unknown_request_and_unknown_endpoint(cli: Any) -> None:
    missing = cli("status", "flux-1-schnell", "no-such-request")
    assert missing.code == 1
    assert "not found" in missing.stderr and "no-such-request" in missing.stderr

    unknown = cli("status", "fal-ai/unknown", "x")
    assert unknown.code == 2
    assert "unknown endpoint 'fal-ai/unknown'" in unknown.stderr


def test_api_errors_exit_1_with_message(cli: Any) -> None:
    result = cli("flux-1-schnell", "--prompt", "p", env={"FAL_KEY": "wrong-key"})
    assert result.code == 1
    assert "status 401" in result.stderr


def test_missing_key_is_a_usage_error(installed: Installed, server: ServerURLs) -> None:
    env = {k: v for k, v in installed.env(server).items() if k != "FAL_KEY"}
    result = _runner(installed, env)("flux-1-schnell", "--prompt", "p")
    assert result.code == 2
    assert "FAL_KEY" in result.stderr


def test_failed_request_exits_1_naming_the_request(installed: Installed) -> None:
    config = ServerConfig(faults=Faults(failure_rate=1.0))
    with running_server(load_specs(SPECS), config) as urls:
        result = _runner(installed, installed.env(urls))("flux-1-schnell", "--prompt", "p")
    assert result.code == 1
    request_id = result.stderr.split("submitted request ")[1].split()[0]
    assert f"request {request_id}" in result.stderr.splitlines()[-1]


def test_ctrl_c_cancels_the_request_and_exits_130(installed: Installed) -> None:
    with running_server(load_specs(SPECS), ServerConfig(queue_delay=30)) as urls:
        process = subprocess.Popen(
            [str(installed.script), "ideogram-v2", "--prompt", "p"],
            env=installed.env(urls),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A shell's background job inherits SIGINT ignored; a user's terminal does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        assert process.stderr is not None
        first = process.stderr.readline()  # "submitted request <id>": the request exists
        assert first.startswith("submitted request "), first
        request_id = first.split()[-1]
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
        status = _runner(installed, installed.env(urls))("status", "ideogram-v2", request_id)

    assert process.returncode == 130
    assert f"cancelled request {request_id}" in rest
    assert "Traceback" not in rest
    assert status.code == 0 and "IN_QUEUE" not in status.stdout


def test_a_closed_stdout_ends_quietly_like_shell_tools(
    installed: Installed, server: ServerURLs
) -> None:
    """``fal-models ... | head`` : the reader went away, which is no API error."""
    process = subprocess.Popen(
        [str(installed.script), "flux-1-schnell", "--prompt", "p", "--json", "--quiet"],
        env=installed.env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # before anything is written: the write must fail
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 141, stderr
    assert stderr.decode() == ""


def test_help_lists_commands_and_unknown_command_is_usage_error(cli: Any) -> None:
    top = cli("--help")
    assert top.code == 0
    for command in COMMANDS:
        assert command.name in top.stdout
    assert "status" in top.stdout and "cancel" in top.stdout
    unknown = cli("no-such-model")
    assert unknown.code == 2
    assert "invalid choice: 'no-such-model'" in unknown.stderr


def test_endpoint_help_shows_fields_defaults_and_choices(cli: Any) -> None:
    result = cli("ideogram-v2", "--help")
    assert result.code == 0
    text = " ".join(result.stdout.split())
    assert "--expand-prompt, --no-expand-prompt" in text
    assert "Default: 1:1." in text
    assert "One of: 10:16, 16:10, 9:16, 16:9" in text
    assert "fal-models ideogram-v2 \\" in result.stdout  # the example
    # Every value option names its type.
    assert "--prompt TEXT" in text and "--seed INT" in text


def test_descriptions_end_like_sentences_before_the_value_forms(cli: Any) -> None:
    text = " ".join(cli("recraft-v2-text-to-image", "--help").stdout.split())
    assert "Repeat the option for each item" in text
    assert " Repeat" in text and "colors Repeat" not in text


def test_help_of_a_command_loads_no_client_code(installed: Installed) -> None:
    code = (
        "import sys, json\n"
        "from fal_models.cli import main\n"
        "status = main(['flux-1-schnell', '--help'])\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=installed.env(), capture_output=True, text=True
    )
    status, modules = json.loads(done.stdout.splitlines()[-1])
    assert status == 0
    loaded = set(modules)
    for heavy in ("pydantic", "httpx", "fal_models._runtime", "fal_models.endpoints"):
        assert heavy not in loaded
    commands = {name for name in loaded if name.startswith("fal_models.cli.commands.")}
    assert commands == {"fal_models.cli.commands.flux_1_schnell"}


def _as_sent(command: Command, values: dict[str, Any]) -> dict[str, Any]:
    """The input as the client sends it: numbers of float fields are floats (``5`` -> ``5.0``)."""
    kinds = {option.name: option.kind for option in command.options}
    return {
        name: float(value) if kinds[name] == "float" and isinstance(value, int) else value
        for name, value in values.items()
    }


def _wait_for_status(cli: Any, command: str, request_id: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        result = cli("status", command, request_id, "--json")
        assert result.code == 0, result.stderr
        status: dict[str, Any] = json.loads(result.stdout)
        if status["status"] == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def _runner(installed: Installed, env: dict[str, str]) -> Any:
    def run(*args: str) -> Result:
        done = subprocess.run(
            [str(installed.script), *args], capture_output=True, text=True, env=env, timeout=60
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


def test_progress_on_a_terminal_uses_rich(installed: Installed, server: ServerURLs) -> None:
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(installed.script), "flux-1-schnell", "--prompt", "p"],
        env=installed.env(server, TERM="xterm-256color"),
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    terminal = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    stdout, _ = process.communicate(timeout=60)
    os.close(main)
    assert process.returncode == 0
    assert stdout.startswith("images[0]: ")
    text = terminal.decode(errors="replace")
    assert "submitted request" in text and "[INFO] Step 1/2" in text
    assert "\x1b[" in text  # a live display, not plain lines
