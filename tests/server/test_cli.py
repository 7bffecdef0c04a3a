"""``falgen serve``: options, the loopback guard, and a real foreground run."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

from generator.server.cli import add_command, config_from_args, serve
from tests.server.support import ROOT, SPECS_DIR


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="falgen")
    add_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


def test_defaults_are_loopback_and_the_handler_is_set() -> None:
    args = parse()

    assert (args.host, args.port, args.specs.as_posix()) == ("127.0.0.1", 8765, "specs")
    assert args.handler is serve


def test_options_become_the_server_configuration() -> None:
    args = parse(
        "--key", "a:b", "--runners", "2", "--hold", "--error-rate", "0.2",
        "--retry-after", "4", "--fault-route", "submit", "--fault-limit", "3", "--seed", "9",
    )  # fmt: skip

    config = config_from_args(args)

    assert config.accepted_keys == frozenset({"a:b"})
    assert (config.runners, config.hold, config.seed) == (2, True, 9)
    assert (config.faults.error_rate, config.faults.retry_after) == (0.2, 4)
    assert (config.faults.routes, config.faults.limit) == (frozenset({"submit"}), 3)


def test_hosts_and_the_admin_token_come_from_options_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FALGEN_ADMIN_TOKEN", "t" * 20)
    named = config_from_args(parse("--host", "::1", "--allowed-host", "falgen.test"))
    monkeypatch.delenv("FALGEN_ADMIN_TOKEN")
    anywhere = config_from_args(parse("--host", "0.0.0.0", "--allow-remote"))

    assert named.allowed_hosts == frozenset({"::1", "falgen.test"})
    assert named.admin_token == "t" * 20
    assert anywhere.allowed_hosts == frozenset()  # every address: no one name to accept
    assert len(anywhere.admin_token) >= 16


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "0.0.0.0"],  # refused without --allow-remote
        ["--error-rate", "2"],
        ["--specs", "/nonexistent/specs"],
    ],
)
def test_bad_invocations_exit_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(parse(*argv)) == 2
    assert "error:" in capsys.readouterr().err


def test_serve_runs_in_the_foreground_until_interrupted() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import argparse, sys
        from generator.server.cli import add_command
        parser = argparse.ArgumentParser()
        add_command(parser.add_subparsers())
        args = parser.parse_args(["serve", "--specs", {str(SPECS_DIR)!r}, "--port", "{port}",
                                  "--queue-delay", "0", "--step-delay", "0"])
        sys.exit(args.handler(args))
        """
    )
    token = "cli-admin-token-1234567890"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FALGEN_ADMIN_TOKEN": token},
    )
    try:
        index = None
        deadline = time.monotonic() + 10
        while index is None and time.monotonic() < deadline:
            try:
                index = httpx.get(f"http://127.0.0.1:{port}/").json()
            except httpx.TransportError:
                time.sleep(0.05)
        reply = httpx.post(
            f"http://127.0.0.1:{port}/run/fal-ai/flux-1/schnell",
            json={"prompt": "cli"},
            headers={"Authorization": "Key any"},
        )
        admin = httpx.get(
            f"http://127.0.0.1:{port}/_admin/stats", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=10)

    assert index is not None
    assert index["hosts"]["queue"] == f"http://127.0.0.1:{port}/queue"
    assert reply.json()["prompt"] == "cli"
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/run" in stdout
    assert f"models   http://127.0.0.1:{port}/api/v1/models" in stdout
    assert f"Bearer {token}" in stdout
    assert admin.json()["runs"] == {"fal-ai/flux-1/schnell": 1}
