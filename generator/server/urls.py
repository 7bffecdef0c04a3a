"""Where each fal host lives on the single local port.

fal spreads its API over several hosts (queue, direct run, realtime, REST, CDN); the local server
serves all of them on one port and tells them apart by the first path segment. This module is the
one place that layout is written down.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .config import Host

QUEUE_PREFIX = "/queue"
RUN_PREFIX = "/run"
REST_PREFIX = "/rest"
API_PREFIX = "/api"
REALTIME_PREFIX = "/realtime"
CDN_PREFIX = "/cdn"
ADMIN_PREFIX = "/_admin"
MODELS_PATH = "/v1/models"  # below API_PREFIX, as on api.fal.ai
HOST_PREFIXES: dict[Host, str] = {
    "queue": QUEUE_PREFIX,
    "run": RUN_PREFIX,
    "rest": REST_PREFIX,
    "api": API_PREFIX,
    "realtime": REALTIME_PREFIX,
    "cdn": CDN_PREFIX,
}
PREFIXES = (*HOST_PREFIXES.values(), ADMIN_PREFIX)


def host_name(header: str) -> str:
    """The name in a Host header (or a URL's authority): without its port, brackets (IPv6) and
    a final dot, in lower case."""
    name = header.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else ""
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    return name.removesuffix(".")


def is_loopback_name(name: str) -> bool:
    """Whether a host name or address (without port or brackets) can only mean this machine:
    a loopback address, ``localhost`` or a name under it (RFC 6761)."""
    name = name.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def root_path_to(host: Host, path: str) -> str:
    """The prefixed path that ``path`` stands for when ``host`` is also served at the root (see
    ``ServerConfig.root_host``); paths under a known prefix, and the index ``/``, stay as is."""
    if path == "/" or any(path == prefix or path.startswith(prefix + "/") for prefix in PREFIXES):
        return path
    return HOST_PREFIXES[host] + path


@dataclass(frozen=True)
class ServerURLs:
    """Base URLs of the local server, one per fal host, each without a trailing slash.

    Point the client's hosts at these: ``queue`` for ``https://queue.fal.run``, ``run`` for
    ``https://fal.run``, ``realtime`` for ``wss://fal.run``, ``rest`` for ``https://rest.fal.ai``,
    ``api`` for ``https://api.fal.ai`` (the Platform API: the model catalogue is at
    :attr:`models`) and ``cdn`` for the file CDN (the storage token names it as ``base_url``
    anyway).
    """

    base: str
    queue: str
    run: str
    rest: str
    api: str
    realtime: str
    cdn: str
    admin: str
    # The server's admin token (see ServerConfig), when the one holding these URLs knows it.
    admin_token: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_base(cls, base: str, admin_token: str = "") -> ServerURLs:
        base = base.rstrip("/")
        if base.startswith("https://"):
            websocket_base = "wss://" + base.removeprefix("https://")
        else:
            websocket_base = "ws://" + base.removeprefix("http://")
        return cls(
            base=base,
            queue=base + QUEUE_PREFIX,
            run=base + RUN_PREFIX,
            rest=base + REST_PREFIX,
            api=base + API_PREFIX,
            realtime=websocket_base + REALTIME_PREFIX,
            cdn=base + CDN_PREFIX,
            admin=base + ADMIN_PREFIX,
            admin_token=admin_token,
        )

    @property
    def models(self) -> str:
        """The model catalogue, ``GET <api>/v1/models``."""
        return self.api + MODELS_PATH

    @property
    def admin_headers(self) -> dict[str, str]:
        """The headers that open ``/_admin``."""
        return {"Authorization": f"Bearer {self.admin_token}"}
