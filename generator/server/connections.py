"""Drop client connections for real, so clients meet genuine connection errors.

ASGI gives an application no way to close its socket: a handler that fails before answering gets
a 500 from the server. uvicorn's HTTP protocol is therefore subclassed to record each connection's
transport by its addresses (the same ``server``/``client`` pair the ASGI scope carries), and a
"drop" closes that transport: the client sees the connection end with no (or half a) response.
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_local_addr, get_remote_addr

Address = tuple[str, int | None] | None
_Key = tuple[Address, Address]


class ConnectionRegistry:
    """Live transports of one server, by (server address, client address), how many were
    opened, and the signal that the server is stopping (set when shutdown starts, so endless
    streams can end first)."""

    def __init__(self) -> None:
        self._transports: dict[_Key, asyncio.Transport] = {}
        self.closing = asyncio.Event()
        self.opened = 0  # connections accepted (since the last stats reset): reuse shows here

    def add(self, transport: asyncio.Transport) -> _Key:
        """Register a new connection; the key to :meth:`discard` it with."""
        key = _key_of(transport)
        self._transports[key] = transport
        self.opened += 1
        return key

    def discard(self, key: _Key, transport: asyncio.Transport) -> None:
        """Forget a lost connection, by the key it was added with: a lost TLS transport can no
        longer tell its addresses."""
        if self._transports.get(key) is transport:
            del self._transports[key]

    def for_scope(self, scope: Scope) -> asyncio.Transport | None:
        server, client = scope.get("server"), scope.get("client")
        return self._transports.get(
            (tuple(server) if server else None, tuple(client) if client else None)
        )


def _key_of(transport: asyncio.Transport) -> _Key:
    return get_local_addr(transport), get_remote_addr(transport)


def protocol_class(registry: ConnectionRegistry) -> type[H11Protocol]:
    """uvicorn's h11 protocol, registering every connection in ``registry``."""

    class RegisteringH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.registry_key = registry.add(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            registry.discard(self.registry_key, self.transport)
            super().connection_lost(exc)

    return RegisteringH11Protocol


class DropConnection(Response):
    """A "response" that closes the connection instead of answering.

    With ``inner`` (a streaming response) the close comes after its first body chunk, which is how
    a stream breaks in the middle. Served by a server without the registering protocol, the
    closest available failure is used: the response stops after its head (or first chunk) and the
    server closes the connection.
    """

    def __init__(self, registry: ConnectionRegistry, inner: Response | None = None) -> None:
        super().__init__(status_code=200)
        self.registry = registry
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = self.registry.for_scope(scope)
        if self.inner is None:
            if transport is not None:
                await _close(transport, receive)
            else:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            return
        await self.inner(scope, receive, _cut_after_first_chunk(send, transport))


async def _close(transport: asyncio.Transport, receive: Receive) -> None:
    transport.close()
    # Wait until the server has seen the connection go, so it does not try to answer for us.
    while (await receive())["type"] != "http.disconnect":
        pass


def _cut_after_first_chunk(send: Send, transport: asyncio.Transport | None) -> Send:
    sent_chunk = False

    async def cutting_send(message: Message) -> None:
        nonlocal sent_chunk
        if sent_chunk:
            return
        await send(message)
        if message["type"] == "http.response.body" and message.get("body"):
            sent_chunk = True
            if transport is not None:
                transport.close()  # flushes the chunk, then ends the connection mid-response

    return cutting_send
