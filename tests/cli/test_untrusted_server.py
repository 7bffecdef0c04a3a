"""The command line against a hostile server (a real one on loopback, tests/hostile.py): it
writes only inside --output-dir under safe names, sends the key nowhere else, prints no terminal
control sequences, and reports bad replies without a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.cli.conftest import Installed, Result
from tests.helpers import FLUX_OUTPUT
from tests.hostile import Answer, Hostile, fake_fal, hostile_server

KEY = "cli-hostile-key-8e2f0c"
EVIL_ID = "../../../../somewhere/evil"


def run(installed: Installed, server: Hostile, *args: str) -> Result:
    env = installed.env(
        FAL_KEY=KEY, FAL_QUEUE_URL=f"{server.url}/queue", FAL_RUN_URL=f"{server.url}/run"
    )
    done = subprocess.run(
        [str(installed.script), *args], capture_output=True, text=True, env=env, timeout=60
    )
    return Result(done.returncode, done.stdout, done.stderr)


def output_with_file(server: Hostile | None, **file: Any) -> dict[str, Any]:
    return {**FLUX_OUTPUT, "images": [{"url": "", "width": 8, "height": 8, **file}]}


def test_names_from_the_reply_cannot_leave_the_output_folder(
    installed: Installed, tmp_path: Path
) -> None:
    files = {"/files/evil.pth": Answer(body=b"import os; os.system('echo pwned')\n")}
    result: dict[str, Any] = {}
    with fake_fal(request_id=EVIL_ID, result=Answer(body=result), files=files) as server:
        result |= output_with_file(
            server,
            url=f"{server.url}/files/evil.pth",
            content_type="text/x-python",
            file_name="../../evil.pth",
        )
        out = tmp_path / "deep" / "out"
        done = run(installed, server, "flux-1-schnell", "--prompt", "p", "--output-dir", str(out))
    assert done.code == 0, done.stderr
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    assert written == ["deep", "deep/out", "deep/out/somewhere_evil-images-0.bin"]
    assert "-> " + str(out / "somewhere_evil-images-0.bin") in done.stdout


def test_an_existing_file_is_kept_unless_overwrite_is_given(
    installed: Installed, tmp_path: Path
) -> None:
    files = {"/files/a.png": Answer(body=b"\x89PNG new", headers={"Content-Type": "image/png"})}
    result: dict[str, Any] = {}
    with fake_fal(request_id="r1", result=Answer(body=result), files=files) as server:
        result |= output_with_file(
            server, url=f"{server.url}/files/a.png", content_type="image/png"
        )
        existing = tmp_path / "r1-images-0.png"
        existing.write_bytes(b"mine")
        args = ("flux-1-schnell", "--prompt", "p", "--output-dir", str(tmp_path), "-q")
        kept = run(installed, server, *args)
        replaced = run(installed, server, *args, "--overwrite")
    assert kept.code == 1
    assert f"{existing} exists (pass --overwrite to replace it) (request r1)" in kept.stderr
    assert "Traceback" not in kept.stderr
    assert replaced.code == 0, replaced.stderr
    assert existing.read_bytes() == b"\x89PNG new"


def test_a_bad_output_dir_is_refused_before_anything_is_submitted(
    installed: Installed, tmp_path: Path
) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("")
    with fake_fal(result=Answer(body=FLUX_OUTPUT)) as server:
        for target in (a_file, a_file / "below"):
            done = run(
                installed, server, "flux-1-schnell", "--prompt", "p", "--output-dir", str(target)
            )
            assert done.code == 2, done.stderr
            assert "argument --output-dir: " in done.stderr and "Errno" not in done.stderr
        result = run(
            installed, server, "result", "flux-1-schnell", "r", "--output-dir", str(a_file)
        )
        assert result.code == 2
    assert server.requests == []  # nothing was submitted, nothing paid for
    assert "exists and is not a folder" in done.stderr or "cannot create" in done.stderr


def test_the_key_is_not_sent_where_the_reply_points(installed: Installed) -> None:
    with hostile_server(lambda method, path: Answer(body={"status": "COMPLETED"})) as other:
        urls = {"status_url": f"{other.url}/s", "response_url": f"{other.url}/r"}
        with fake_fal(submitted=urls, result=Answer(body=FLUX_OUTPUT)) as server:
            done = run(installed, server, "flux-1-schnell", "--prompt", "p")
    assert done.code == 1
    assert "refusing to send credentials to http://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr
    assert other.requests == []


CONTROL = "\x1b]0;owned\x07\x1b[2J\r\u009b31m\u202e"


def test_server_text_reaches_the_terminal_escaped(installed: Installed) -> None:
    status = {
        "status": "COMPLETED",
        "logs": [{"message": f"log {CONTROL}", "level": "INFO", "source": "", "timestamp": ""}],
    }
    output = {**FLUX_OUTPUT, "prompt": f"text {CONTROL}\nsecond line"}
    with fake_fal(request_id=f"id{CONTROL}", status=status, result=Answer(body=output)) as server:
        text = run(installed, server, "flux-1-schnell", "--prompt", "p")
        raw = run(installed, server, "flux-1-schnell", "--prompt", "p", "--json")
    with fake_fal(result=Answer(400, {"detail": f"boom {CONTROL}"})) as server:
        failed = run(installed, server, "flux-1-schnell", "--prompt", "p")
    for done in (text, raw, failed):
        for stream in (done.stdout, done.stderr):
            assert not set(stream) & set("\x1b\x07\r\u009b\u202e"), stream
    assert text.code == 0 and raw.code == 0 and failed.code == 1
    assert "log \\x1b]0;owned\\x07\\x1b[2J\\r\\x9b31m\\u202e" in text.stderr
    assert "prompt:\n  text \\x1b]0;owned" in text.stdout and "\n  second line" in text.stdout
    assert json.loads(raw.stdout)["prompt"] == output["prompt"]  # the JSON keeps the text
    assert "boom \\x1b]0;owned" in failed.stderr


def test_a_result_that_is_not_json_is_reported_without_a_traceback(installed: Installed) -> None:
    with fake_fal(result=Answer(body=b'{"images": [{"url": "https://v3.fal.m')) as server:
        done = run(installed, server, "flux-1-schnell", "--prompt", "p", "-q")
    assert done.code == 1
    assert "is not valid JSON" in done.stderr and "request req-1" in done.stderr
    assert "Traceback" not in done.stderr and "JSONDecodeError" not in done.stderr
