"""The API key never leaks: not into messages, reprs, tracebacks, logs or the command line's output.

Distinctive fake keys (``FAL_KEY`` style, and ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``) drive every
path a user meets: successful calls of each kind, sync and async; every error class (401, 403,
404, 422, 429, 5xx, a refused connection, a read timeout, the call's deadline, RequestFailed,
missing credentials); the reprs of the clients, configs, resources, handles, statuses and
outputs; everything logged at DEBUG (httpx, httpcore, websockets, fal_models: also the headers
of a gateway that echoes the key back) and written to
stdout and stderr; and the installed ``fal-models`` command. All of that text is then searched
for the keys and for either half of ``id:secret``. (tests/e2e/test_errors.py checks the
messages of single errors; this is the sweep.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pydantic
import pytest

from generator.loader import SpecDocument, load_specs
from generator.server import Faults, ServerConfig, ServerURLs, running_server
from tests.cli.conftest import Installed, installed  # noqa: F401 (the installed console script)
from tests.helpers import SPECS

KEY = "sk-leakcheck-6d1e9b0a4f7c2e58"
KEY_ID = "keyid-9c4b17e2d3a6"
KEY_SECRET = "keysecret-5af08e61b7c4"
WRONG_KEY = "wrongkey-2b7d5e9a1c30"  # a key the user set, refused by the server: secret too
SECRETS = (KEY, KEY_ID, KEY_SECRET, f"{KEY_ID}:{KEY_SECRET}", WRONG_KEY)
ACCEPTED = frozenset({KEY, f"{KEY_ID}:{KEY_SECRET}"})
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


class Seen:
    """Every piece of text a user could see or a log could keep."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, *objects: object) -> None:
        for item in objects:
            self.texts.append((label, str(item)))
            self.texts.append((label, repr(item)))
            if isinstance(item, BaseException):
                self.error(label, item)

    def error(self, label: str, error: BaseException) -> None:
        """The error as a traceback shows it (with its causes), and all it carries."""
        self.texts.append((label, "".join(traceback.format_exception(error))))
        for link in _chain(error):
            self.texts.append((label, repr(link.args)))
            self.texts.append((label, repr(vars(link))))

    def leaks(self) -> list[str]:
        return [
            f"{label}: ...{text[max(0, text.find(secret) - 80) : text.find(secret) + 80]}..."
            for label, text in self.texts
            for secret in SECRETS
            if secret in text
        ]


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


@pytest.fixture(scope="module")
def specs() -> list[SpecDocument]:
    return load_specs(SPECS)


@pytest.fixture
def serve(specs: list[SpecDocument]) -> Iterator[Callable[..., ServerURLs]]:
    with ExitStack() as stack:

        def start(**settings: Any) -> ServerURLs:
            config = ServerConfig(accepted_keys=ACCEPTED, **settings)
            return stack.enter_context(running_server(specs, config))

        yield start


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Seen]:
    """Collects the test's texts; at the end adds every log record (DEBUG and up, formatted
    with arguments and tracebacks), stdout, stderr and warnings, then checks them all."""
    collected = Seen()
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "websockets", "fal_models", "uvicorn", "falgen"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield collected
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    for record in records:
        collected.texts.append(("log", formatter.format(record)))
        collected.texts.append(("log", repr(record.__dict__)))
    out, err = capfd.readouterr()
    collected.texts += [("stdout", out), ("stderr", err)]
    collected.texts += [("warning", str(warning.message)) for warning in caught]
    # The capture worked: httpx logged the requests (without their headers).
    assert any(record.name == "httpx" for record in records)
    assert not collected.leaks(), "\n".join(collected.leaks())


def options(urls: ServerURLs, **overrides: Any) -> dict[str, Any]:
    return {
        "key": KEY,
        "queue_url": urls.queue,
        "run_url": urls.run,
        "rest_url": urls.rest,
        "realtime_url": urls.realtime,
        "timeout": 10.0,
        **overrides,
    }


def expect(seen: Seen, label: str, kind: type[BaseException], call: Callable[[], object]) -> None:
    with pytest.raises(kind) as failure:
        call()
    seen.add(label, failure.value)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_successful_calls_show_no_key(seen: Seen, serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient

    urls = serve()
    with FalClient(**options(urls, upload_threshold=0)) as client:
        statuses: list[Any] = []
        output = client.flux_1_schnell(
            prompt="a fox", with_logs=True, on_queue_update=statuses.append
        )
        handle = client.flux_1_schnell.submit(prompt="a fox", priority="low")
        seen.add("queue", output, *statuses, handle, handle.urls, handle.status(logs=True))
        seen.add("events", *handle.iter_events(logs=True), handle.result())
        seen.add("run", client.flux_1_schnell.run(prompt="a fox"))
        seen.add("stream", *client.hidream_i1_full.stream(prompt="a lighthouse"))
        seen.add("upload", client.storage.upload(PNG, content_type="image/png"))
        seen.add("file input", client.omnigen_v2(prompt="a cat", input_image_urls=[PNG]))
        with client.fast_lcm_diffusion.realtime() as connection:
            connection.send(prompt="a cat", seed=1)
            seen.add("realtime", connection, connection.recv(timeout=5))
        seen.add("objects", client, client.config, client.flux_1_schnell, client.storage)
        seen.add("with_options", client.with_options(timeout=5))


def test_key_from_id_and_secret_shows_neither_half(
    seen: Seen, serve: Callable[..., ServerURLs], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fal_models import AsyncFalClient, ClientConfig, FalClient

    urls = serve()
    monkeypatch.delenv("FAL_KEY", raising=False)
    monkeypatch.setenv("FAL_KEY_ID", KEY_ID)
    monkeypatch.setenv("FAL_KEY_SECRET", KEY_SECRET)
    settings = {name: value for name, value in options(urls).items() if name != "key"}
    with FalClient(**settings) as client:
        assert client.config.key == f"{KEY_ID}:{KEY_SECRET}"
        seen.add("id:secret", client, client.config, client.flux_1_schnell(prompt="a fox"))

    async def calls() -> None:
        async with AsyncFalClient(**settings) as aclient:
            handle = await aclient.flux_1_schnell.submit(prompt="a fox")
            seen.add("async id:secret", aclient, handle, await handle.result())

    asyncio.run(calls())
    seen.add("config", ClientConfig.from_env(), ClientConfig(key=KEY))


class LooseInput(pydantic.BaseModel):
    """Accepts anything, so that the server's validation (422) is reached."""

    model_config = pydantic.ConfigDict(extra="allow")


def test_every_error_shows_no_key(seen: Seen, serve: Callable[..., ServerURLs]) -> None:
    from fal_models import (
        APIConnectionError,
        AuthenticationError,
        ClientConfig,
        FalClient,
        MissingCredentialsError,
        NotFoundError,
        RateLimitError,
        RequestFailed,
        ServerError,
        TimeoutError,
        ValidationError,
    )
    from fal_models._runtime import SyncEndpoint
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    urls = serve()
    with FalClient(**options(urls, key=WRONG_KEY)) as client:
        expect(seen, "401", AuthenticationError, lambda: client.flux_1_schnell(prompt="a fox"))
        expect(seen, "401 run", AuthenticationError, lambda: client.flux_1_schnell.run(prompt="x"))
    with FalClient(**options(urls)) as client:
        handle = client.flux_1_schnell.handle("no-such-request")
        expect(seen, "404", NotFoundError, handle.status)
        expect(seen, "404 result", NotFoundError, handle.result)
        expect(
            seen,
            "422 local",
            ValidationError,
            lambda: client.flux_1_schnell(prompt="x", num_images="x"),
        )

        class LooseFlux(SyncEndpoint[LooseInput, Flux1SchnellOutput]):
            endpoint_id = "fal-ai/flux-1/schnell"
            app_id = "fal-ai/flux-1"
            input_model = LooseInput
            output_model = Flux1SchnellOutput

        loose = LooseFlux(client)
        expect(seen, "422", ValidationError, lambda: loose._run({"num_images": "many"}, {}))
        expect(seen, "422 queued", ValidationError, lambda: loose._subscribe({"seed": "x"}, {}))
        done = client.flux_1_schnell.submit(prompt="a fox")
        done.result()
        expect(seen, "400 cancel", Exception, done.cancel)

    limited = serve(faults=Faults(rate_limit_rate=1.0, retry_after=0, routes=frozenset({"status"})))
    with FalClient(**options(limited, max_retries=1)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        expect(seen, "429", RateLimitError, handle.status)
    failing = serve(faults=Faults(error_rate=1.0, routes=frozenset({"submit", "run"})))
    with FalClient(**options(failing, max_retries=1)) as client:
        expect(seen, "5xx", ServerError, lambda: client.flux_1_schnell(prompt="a fox"))
        expect(seen, "5xx run", ServerError, lambda: client.flux_1_schnell.run(prompt="a fox"))
    broken = serve(faults=Faults(failure_rate=1.0))
    with FalClient(**options(broken)) as client:
        expect(seen, "failed", RequestFailed, lambda: client.flux_1_schnell(prompt="a fox"))
        stream = lambda: list(client.hidream_i1_full.stream(prompt="a fox"))  # noqa: E731
        expect(seen, "failed stream", ServerError, stream)
    slow = serve(faults=Faults(slow_rate=1.0, slow_delay=0.5, routes=frozenset({"status"})))
    with FalClient(**options(slow, timeout=0.1, max_retries=0)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        expect(seen, "read timeout", APIConnectionError, handle.status)
    held = serve(hold=True)
    with FalClient(**options(held)) as client:
        expect(
            seen, "deadline", TimeoutError, lambda: client.flux_1_schnell(prompt="x", timeout=0.3)
        )
    refused = f"http://127.0.0.1:{closed_port()}"
    with FalClient(key=KEY, queue_url=refused, run_url=refused, max_retries=1) as client:
        expect(seen, "refused", APIConnectionError, lambda: client.flux_1_schnell(prompt="a fox"))
        refused_run = lambda: client.flux_1_schnell.run(prompt="a fox")  # noqa: E731
        expect(seen, "refused run", APIConnectionError, refused_run)
        seen.add("refused client", client)
    with FalClient(config=ClientConfig(), queue_url=refused) as anonymous:
        expect(
            seen, "no key", MissingCredentialsError, lambda: anonymous.flux_1_schnell(prompt="x")
        )


def test_an_echoing_gateway_does_not_leak_the_key(seen: Seen) -> None:
    """A gateway that refuses the key (403) and quotes it back."""
    from fal_models import AuthenticationError, FalClient

    def gateway(request: httpx.Request) -> httpx.Response:
        credential = request.headers["authorization"]
        detail = f"{credential} may not use this app"
        return httpx.Response(403, json={"detail": detail}, headers={"x-fal-error-type": detail})

    http = httpx.Client(transport=httpx.MockTransport(gateway))
    with FalClient(
        key=f"{KEY_ID}:{KEY_SECRET}", queue_url="https://gateway.test", http_client=http
    ):
        pass
    with FalClient(key=KEY, queue_url="https://gateway.test", http_client=http) as client:
        expect(seen, "403", AuthenticationError, lambda: client.flux_1_schnell(prompt="a fox"))
    with FalClient(
        key=f"{KEY_ID}:{KEY_SECRET}", queue_url="https://gateway.test", http_client=http
    ) as client:
        expect(
            seen, "403 id:secret", AuthenticationError, lambda: client.flux_1_schnell(prompt="x")
        )
    http.close()
    logging.getLogger("httpx").debug("a record, so the capture check holds without a server")


@pytest.mark.anyio
async def test_async_calls_and_errors_show_no_key(
    seen: Seen, serve: Callable[..., ServerURLs]
) -> None:
    from fal_models import (
        APIConnectionError,
        AsyncFalClient,
        AuthenticationError,
        NotFoundError,
        ServerError,
        TimeoutError,
    )

    urls = serve()
    async with AsyncFalClient(**options(urls)) as client:
        statuses: list[Any] = []
        output = await client.flux_1_schnell(
            prompt="a fox", with_logs=True, on_queue_update=statuses.append
        )
        handle = await client.flux_1_schnell.submit(prompt="a fox")
        events = [event async for event in handle.iter_events(logs=True)]
        streamed = [event async for event in client.hidream_i1_fast.stream(prompt="a cat")]
        seen.add("async", client, output, *statuses, handle, *events, *streamed)
        seen.add("async run", await client.flux_1_schnell.run(prompt="a fox"))
        async with client.fast_lcm_diffusion.realtime() as connection:
            await connection.send(prompt="a cat", seed=1)
            seen.add("async realtime", connection, await connection.recv(timeout=5))
        gone = client.flux_1_schnell.handle("no-such-request")
        with pytest.raises(NotFoundError) as missing:
            await gone.status()
        seen.add("async 404", missing.value)
    async with AsyncFalClient(**options(urls, key=WRONG_KEY)) as client:
        with pytest.raises(AuthenticationError) as refused:
            await client.flux_1_schnell(prompt="a fox")
        seen.add("async 401", refused.value)
    failing = serve(faults=Faults(error_rate=1.0, routes=frozenset({"submit"})))
    async with AsyncFalClient(**options(failing, max_retries=0)) as client:
        with pytest.raises(ServerError) as failed:
            await client.flux_1_schnell(prompt="a fox")
        seen.add("async 5xx", failed.value)
    held = serve(hold=True)
    async with AsyncFalClient(**options(held)) as client:
        with pytest.raises(TimeoutError) as late:
            await client.flux_1_schnell(prompt="a fox", timeout=0.3)
        seen.add("async deadline", late.value)
    closed = f"http://127.0.0.1:{closed_port()}"
    async with AsyncFalClient(key=KEY, queue_url=closed, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as unreachable:
            await client.flux_1_schnell(prompt="a fox")
        seen.add("async refused", unreachable.value)


def test_a_gateway_echoing_the_key_in_headers_leaves_no_trace_in_debug_logs(seen: Seen) -> None:
    """httpcore logs every response's headers at DEBUG: a real gateway on loopback answers with
    the credential it was sent, in headers and bodies, for accepted and refused requests."""
    from fal_models import AuthenticationError, FalClient
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    echoed: list[str] = []

    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            credential = self.headers.get("authorization", "")
            echoed.append(credential)
            refused = WRONG_KEY in credential
            body = {"detail": f"{credential} refused"} if refused else {"status": "COMPLETED"}
            data = json.dumps(body).encode()
            self.send_response(403 if refused else 200)
            self.send_header("X-Echo", credential)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for key in (KEY, f"{KEY_ID}:{KEY_SECRET}"):
            with FalClient(key=key, queue_url=url) as client:
                seen.add("echoed status", client.flux_1_schnell.handle("r").status())
        with FalClient(key=WRONG_KEY, queue_url=url, max_retries=0) as client:
            expect(
                seen, "echoed 403", AuthenticationError, client.flux_1_schnell.handle("r").status
            )
    finally:
        server.shutdown()
        server.server_close()
    assert any(KEY in credential for credential in echoed)  # the gateway did echo the keys
    assert Flux1SchnellOutput  # the endpoint module loaded (its records are swept too)


def test_the_command_line_shows_no_key(
    seen: Seen,
    installed: Installed,  # noqa: F811 (the fixture imported above)
    serve: Callable[..., ServerURLs],
) -> None:
    urls = serve()

    def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = installed.env(urls, FAL_KEY=KEY) | env
        done = subprocess.run(
            [str(installed.script), *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
        )
        seen.texts += [(f"cli {args}", done.stdout), (f"cli {args}", done.stderr)]
        return done

    assert cli("flux-1-schnell", "--prompt", "a fox", "--json").returncode == 0
    queued = cli("flux-1-schnell", "--prompt", "a fox", "--no-wait")
    request_id = queued.stdout.strip().splitlines()[-1]
    for command in ("status", "result", "cancel"):
        cli(command, "flux-1-schnell", request_id)
    assert cli("flux-1-schnell", "--prompt", "a fox", FAL_KEY=WRONG_KEY).returncode == 1
    with_halves = {"FAL_KEY": "", "FAL_KEY_ID": KEY_ID, "FAL_KEY_SECRET": KEY_SECRET}
    assert cli("flux-1-schnell", "--prompt", "a fox", **with_halves).returncode == 0
    wrong_halves = {"FAL_KEY": "", "FAL_KEY_ID": KEY_ID, "FAL_KEY_SECRET": WRONG_KEY}
    assert cli("flux-1-schnell", "--prompt", "a fox", **wrong_halves).returncode == 1
    # A connection error (a refused connection would be retried with backoff for long).
    dropping = serve(faults=Faults(drop_rate=1.0, routes=frozenset({"submit"})))
    assert cli("flux-1-schnell", "--prompt", "a fox", FAL_QUEUE_URL=dropping.queue).returncode == 1
    assert cli("flux-1-schnell", "--num-images", "many").returncode == 2
    assert cli("status", "flux-1-schnell", "no-such-request").returncode == 1
    assert cli("flux-1-schnell", "--help").returncode == 0
    assert cli("--version").returncode == 0
    logging.getLogger("httpx").debug("the commands ran in their own processes")


def test_the_sweep_finds_a_planted_key() -> None:
    """The check above is not vacuous: a key in any shape of text is found."""
    for planted in (KEY, KEY_SECRET, f"Key {KEY_ID}:{KEY_SECRET}"):
        sweep = Seen()
        sweep.add("planted", ValueError("no"), RuntimeError(f"failed with {planted}"))
        assert sweep.leaks()
