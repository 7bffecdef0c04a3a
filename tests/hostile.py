"""A hostile fal look-alike on loopback: a real HTTP server whose answers a test scripts, to
see what the client and the command line do with replies crafted by an attacker."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes | str | Any = b""  # bytes as they are, str as UTF-8, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, bytes):
            return self.body, self.headers
        if isinstance(self.body, str):
            return self.body.encode(), {"Content-Type": "text/plain", **self.headers}
        return json.dumps(self.body).encode(), {"Content-Type": "application/json", **self.headers}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Hostile:
    """The server's base URL, and every request it received."""

    url: str
    requests: list[Seen]


Script = Callable[[str, str], Answer]  # (method, path with query) -> answer


@contextmanager
def hostile_server(script: Script) -> Iterator[Hostile]:
    requests: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            requests.append(Seen(self.command, self.path, dict(self.headers.items())))
            answer = script(self.command, self.path)
            body, headers = answer.encoded()
            self.send_response(answer.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hostile(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fake_queue(
    base: str,
    *,
    request_id: str = "req-1",
    submitted: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    result: Answer,
    files: dict[str, Answer] | None = None,
) -> Script:
    """The queue protocol with replies chosen by the test: submit (its reply's URLs point here
    unless ``submitted`` says otherwise), status (no stream: the client polls), the result,
    and files under ``/files/``."""
    app = f"{base}/queue/app/requests/x"
    reply = {
        "request_id": request_id,
        "status_url": f"{app}/status",
        "response_url": app,
        "cancel_url": f"{app}/cancel",
        **(submitted or {}),
    }

    def script(method: str, path: str) -> Answer:
        route = path.partition("?")[0]
        if route.startswith("/files/"):
            return (files or {}).get(route, Answer(404, {"detail": "no such file"}))
        if method == "POST":
            return Answer(body=reply)
        if route.endswith("/status/stream"):
            return Answer(404, {"detail": "no stream here"})
        if route.endswith("/status"):
            return Answer(body=status or {"status": "COMPLETED", "logs": []})
        if route.endswith("/cancel"):
            return Answer(400, {"detail": "already completed"})
        return result

    return script


@contextmanager
def fake_fal(**options: Any) -> Iterator[Hostile]:
    """A hostile server speaking :func:`fake_queue` with the given replies."""
    scripts: list[Script] = []
    with hostile_server(lambda method, path: scripts[0](method, path)) as server:
        scripts.append(fake_queue(server.url, **options))
        yield server
