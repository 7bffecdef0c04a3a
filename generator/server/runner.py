"""Run the server with uvicorn: in the foreground (``falgen serve``) or in a background thread
for tests (:func:`running_server`).

Both use the connection-registering HTTP protocol, so injected drops close real sockets, and both
keep realtime tokens out of the logs. Either can speak TLS (``https://``, ``wss://``) given a
certificate and its key, for clients that cannot be pointed at plain HTTP (fal-client).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn

from generator.loader import SpecDocument

from .app import create_app
from .catalog import Unavailable
from .config import ServerConfig
from .connections import ConnectionRegistry, protocol_class
from .urls import ServerURLs

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
_TOKEN_IN_URL = re.compile(r"(fal_jwt_token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Blanks ``fal_jwt_token`` values in log records (uvicorn logs websocket URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        record.msg = _TOKEN_IN_URL.sub(r"\1[redacted]", str(record.msg))
        return True


def install_log_redaction() -> None:
    """Attach :class:`RedactTokens` to uvicorn's loggers, once."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())


class FalServer(uvicorn.Server):
    """uvicorn's server, telling the app when shutdown starts: open status streams then end at
    once instead of holding the shutdown for its grace period."""

    def __init__(self, config: uvicorn.Config, connections: ConnectionRegistry) -> None:
        super().__init__(config)
        self.connections = connections

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.connections.closing.set()
        await super().shutdown(sockets)


def make_server(
    specs: Sequence[SpecDocument],
    server_config: ServerConfig,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    log_level: str = "warning",
    access_log: bool = False,
    ssl_certfile: str | os.PathLike[str] | None = None,
    ssl_keyfile: str | os.PathLike[str] | None = None,
    unavailable: Sequence[Unavailable] = (),
) -> FalServer:
    """A uvicorn server for the app, with connection-level fault support; with TLS when given
    ``ssl_certfile`` (PEM, the chain the server presents) and ``ssl_keyfile`` (PEM).
    ``unavailable``: specs that did not load, listed in the model catalogue only."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ValueError("TLS needs both ssl_certfile and ssl_keyfile")
    connections = ConnectionRegistry()
    install_log_redaction()
    config = uvicorn.Config(
        create_app(specs, server_config, connections=connections, unavailable=unavailable),
        host=host,
        port=port,
        http=protocol_class(connections),
        ws="websockets-sansio",
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=1,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    return FalServer(config, connections)


@contextmanager
def running_server(
    specs: Sequence[SpecDocument],
    config: ServerConfig | None = None,
    *,
    ssl_certfile: str | os.PathLike[str] | None = None,
    ssl_keyfile: str | os.PathLike[str] | None = None,
    unavailable: Sequence[Unavailable] = (),
) -> Iterator[ServerURLs]:
    """Serve ``specs`` on a free loopback port in a background thread; yield its URLs
    (``https://`` ones when given a certificate and key, see :func:`make_server`).

    The server stops when the block exits; open status streams end first.
    """
    # IPPROTO_TCP explicitly: asyncio only disables Nagle (TCP_NODELAY) on sockets that say they
    # are TCP, and with Nagle every response on a kept-alive connection waits ~40 ms for an ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((LOOPBACK, 0))
    port = listener.getsockname()[1]
    config = config or ServerConfig()
    server = make_server(
        specs,
        config,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        unavailable=unavailable,
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="falgen-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local fal server did not start")
            time.sleep(0.005)
        scheme = "http" if ssl_certfile is None else "https"
        yield ServerURLs.from_base(f"{scheme}://{LOOPBACK}:{port}", config.admin_token)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        listener.close()
