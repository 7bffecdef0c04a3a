"""A small ASGI app served on a real loopback socket in a thread, for the tests that need what a
real connection does (reads that block, connections that close) with an answer the local server
does not give."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn


@contextlib.contextmanager
def serving(app: Any, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (over TLS with ``tls``: certificate chain and key files);
    yields its base URL. The server stops when the block exits."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1:{listener.getsockname()[1]}"
    files = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    config = uvicorn.Config(app, log_level="warning", lifespan="off", **files)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.started, "the test server did not start"
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
