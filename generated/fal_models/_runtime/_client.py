"""The base of the generated ``FalClient`` and ``AsyncFalClient``: configuration and one
connection pool per client."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import threading
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from ._config import ClientConfig

# httpx, and the modules that use it, are imported when the first request is sent: a client
# that only builds and validates requests does not wait for them.
if TYPE_CHECKING:
    import httpx

    from ._storage import AsyncStorage, SyncStorage

# Connections per client, as in httpx's and fal-client's defaults: over a real network a pool
# carries about size / round-trip requests a second, so a smaller one (cheaper on loopback, where
# the TLS handshakes are what costs) would hold back many concurrent calls. A call that follows
# its request over the status stream holds a connection until COMPLETED (see
# _http.stream_places). httpx keeps only 20 connections alive by default: with more calls than
# that, connections would be closed as they are freed and opened again, each with a TLS
# handshake. Keep as many alive as may be open.
POOL_SIZE = 100
DOWNLOAD_LIMIT = "max_download_bytes"  # the setting named when a download is too large


def pool_limits() -> httpx.Limits:
    import httpx

    return httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)


class _ClientBase:
    # Endpoint attribute -> (module in the package's ``endpoints``, class name); the generated
    # clients fill it in and declare each attribute's type for type checkers.
    _endpoints: ClassVar[dict[str, tuple[str, str]]] = {}
    _flavour = ""  # the prefix of the endpoint classes: "" or "Async"

    def __init__(
        self,
        *,
        key: str | None = None,
        queue_url: str | None = None,
        run_url: str | None = None,
        rest_url: str | None = None,
        realtime_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        upload_threshold: int | None = None,
        max_response_bytes: int | None = None,
        max_download_bytes: int | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        """Arguments win over ``config``, which wins over the environment (see ClientConfig).

        ``upload_threshold``: local files up to this many bytes are sent inline as ``data:``
        URIs, larger ones are uploaded to fal storage first. ``max_response_bytes``: the
        largest API reply read (ResponseTooLargeError beyond); ``max_download_bytes``: the
        largest output file downloaded or saved.
        """
        overrides: dict[str, Any] = {
            "key": key,
            "queue_url": queue_url,
            "run_url": run_url,
            "rest_url": rest_url,
            "realtime_url": realtime_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "upload_threshold": upload_threshold,
            "max_response_bytes": max_response_bytes,
            "max_download_bytes": max_download_bytes,
        }
        self.config = (
            ClientConfig.from_env(**overrides)
            if config is None
            else ClientConfig(
                **{
                    **vars(config),
                    **{k: v for k, v in overrides.items() if v is not None},
                }
            ).normalised()
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} queue_url={self.config.queue_url!r}>"

    # Hidden from type checkers, which see each endpoint's declared type instead (and flag a
    # misspelt attribute rather than taking it for Any).
    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            """An endpoint, imported and bound to this client on first use (then a plain
            attribute), so that a client with many endpoints costs nothing for those not used.
            """
            try:
                module, class_name = self._endpoints[name]
            except KeyError:
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {name!r}"
                ) from None
            # The generated client (also when subclassed elsewhere) names the package.
            owner = next(c for c in type(self).__mro__ if "_endpoints" in vars(c))
            package = owner.__module__.rpartition(".")[0]
            loaded = importlib.import_module(f"{package}.endpoints.{module}")
            endpoint = getattr(loaded, self._flavour + class_name)(self)
            self.__dict__[name] = endpoint
            return endpoint

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._endpoints})


class SyncClient(_ClientBase):
    """Synchronous client: pass ``http_client`` to bring your own ``httpx.Client``."""

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._pool = http_client
        self._pool_lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """The connection pool: the one given, else this client's own, made when first needed
        (setting up TLS takes tens of milliseconds)."""
        if self._pool is None:
            with self._pool_lock:  # threads sharing this client share one pool
                if self._pool is None:
                    import httpx

                    from . import _http

                    pool = httpx.Client(timeout=self.config.timeout, limits=pool_limits())
                    _http.reserve_stream_places(pool, POOL_SIZE)
                    self._pool = pool
        return self._pool

    def with_options(self, **changes: Any) -> Self:
        """A client with some settings changed (any ClientConfig field) that shares this
        one's connection pool: ``client.with_options(timeout=5, max_retries=0)``."""
        return type(self)(config=dataclasses.replace(self.config, **changes), http_client=self.http)

    @functools.cached_property
    def storage(self) -> SyncStorage:
        """Upload files to fal storage: ``client.storage.upload(Path("cat.png"))`` -> URL."""
        from ._storage import SyncStorage

        return SyncStorage(self)

    def _send(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        from . import _http

        extra = kwargs.pop("headers", None)
        return _http.send(
            self.http,
            self.config,
            method,
            url,
            idempotent=idempotent,
            headers=_http.headers(self.config, extra),
            **kwargs,
        )

    def _open(
        self, method: str, url: str, *, idempotent: bool, **kwargs: Any
    ) -> contextlib.AbstractContextManager[httpx.Response]:
        """Like ``_send`` but the body is left unread, for Server-Sent Events (asked for)."""
        from . import _http

        extra = {**kwargs.pop("headers", {}), **_http.EVENT_STREAM}
        return _http.open_response(
            self.http,
            self.config,
            method,
            url,
            idempotent=idempotent,
            stream=True,
            headers=_http.headers(self.config, extra),
            **kwargs,
        )

    @contextlib.contextmanager
    def _open_download(self, url: str, max_bytes: int | None = None) -> Iterator[Iterator[bytes]]:
        """GET a file URL (a CDN, not the API: no key is sent): its content in chunks, at most
        ``max_bytes`` (default: ``config.max_download_bytes``)."""
        from . import _http

        limit = self.config.max_download_bytes if max_bytes is None else max_bytes
        with _http.open_response(
            self.http,
            self.config,
            "GET",
            url,
            idempotent=True,
            stream=True,
            follow_redirects=True,
            headers={"User-Agent": _http.USER_AGENT},
        ) as response:
            yield _http.limited(response, response.iter_bytes(), limit, DOWNLOAD_LIMIT)

    def _download(self, url: str, max_bytes: int | None = None) -> bytes:
        with self._open_download(url, max_bytes) as chunks:
            return b"".join(chunks)

    def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http and self._pool is not None:
            self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """Asynchronous client: pass ``http_client`` to bring your own ``httpx.AsyncClient``."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._pool = http_client

    @property
    def http(self) -> httpx.AsyncClient:
        """The connection pool: the one given, else this client's own, made when first needed
        (setting up TLS takes tens of milliseconds)."""
        if self._pool is None:
            import httpx

            from . import _http, _pool

            timeout = self.config.timeout
            if _pool.environment_proxies():  # httpx's own pool: it routes through the proxy
                pool = httpx.AsyncClient(timeout=timeout, limits=pool_limits())
            else:
                lanes = _pool.LanePool(POOL_SIZE, _pool.default_lanes())
                pool = httpx.AsyncClient(timeout=timeout, transport=lanes)
            _http.reserve_stream_places(pool, POOL_SIZE)
            self._pool = pool
        return self._pool

    def with_options(self, **changes: Any) -> Self:
        """A client with some settings changed (any ClientConfig field) that shares this
        one's connection pool: ``client.with_options(timeout=5, max_retries=0)``."""
        return type(self)(config=dataclasses.replace(self.config, **changes), http_client=self.http)

    @functools.cached_property
    def storage(self) -> AsyncStorage:
        """Upload files to fal storage: ``await client.storage.upload(Path("cat.png"))``."""
        from ._storage import AsyncStorage

        return AsyncStorage(self)

    def _open(
        self, method: str, url: str, *, idempotent: bool, **kwargs: Any
    ) -> contextlib.AbstractAsyncContextManager[httpx.Response]:
        """Like ``_send`` but the body is left unread, for Server-Sent Events (asked for)."""
        from . import _http

        extra = {**kwargs.pop("headers", {}), **_http.EVENT_STREAM}
        return _http.aopen_response(
            self.http,
            self.config,
            method,
            url,
            idempotent=idempotent,
            stream=True,
            headers=_http.headers(self.config, extra),
            **kwargs,
        )

    @contextlib.asynccontextmanager
    async def _open_download(
        self, url: str, max_bytes: int | None = None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The async twin of :meth:`SyncClient._open_download`."""
        from . import _http

        limit = self.config.max_download_bytes if max_bytes is None else max_bytes
        async with _http.aopen_response(
            self.http,
            self.config,
            "GET",
            url,
            idempotent=True,
            stream=True,
            follow_redirects=True,
            headers={"User-Agent": _http.USER_AGENT},
        ) as response:
            yield _http.alimited(response, response.aiter_bytes(), limit, DOWNLOAD_LIMIT)

    async def _download(self, url: str, max_bytes: int | None = None) -> bytes:
        async with self._open_download(url, max_bytes) as chunks:
            return b"".join([chunk async for chunk in chunks])

    async def _send(
        self, method: str, url: str, *, idempotent: bool, **kwargs: Any
    ) -> httpx.Response:
        from . import _http

        extra = kwargs.pop("headers", None)
        return await _http.asend(
            self.http,
            self.config,
            method,
            url,
            idempotent=idempotent,
            headers=_http.headers(self.config, extra),
            **kwargs,
        )

    async def aclose(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http and self._pool is not None:
            await self._pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
