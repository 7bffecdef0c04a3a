"""A local fal-compatible server generated from the same specs as the client.

Developers use it to work offline (``falgen serve``); the test suite uses it to exercise generated
clients end to end, including the failures real networks and fal's platform produce.

It needs the ``server`` extra (``pip install 'falgen[server]'``): generating code does not. The
names below are therefore imported on first use, so that importing this package (as
``falgen serve`` does to report a missing extra) needs none of those dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import DEFAULT_FAULT_ROUTES, HOSTS, ROUTES, Faults, Host, Route, ServerConfig
    from .process import server_process, throwaway_certificates
    from .runner import running_server
    from .stats import QUEUED_OUTCOMES, SubmitOutcome, input_digest
    from .urls import ServerURLs
    from .webhooks import signed_message

# The modules of the ``server`` extra (each distribution has the same name).
DEPENDENCIES = ("starlette", "uvicorn", "websockets", "msgpack", "cryptography")

_EXPORTS = {
    "DEFAULT_FAULT_ROUTES": "config",
    "HOSTS": "config",
    "QUEUED_OUTCOMES": "stats",
    "ROUTES": "config",
    "Faults": "config",
    "Host": "config",
    "Route": "config",
    "ServerConfig": "config",
    "ServerURLs": "urls",
    "SubmitOutcome": "stats",
    "create_app": "app",
    "input_digest": "stats",
    "running_server": "runner",
    "server_process": "process",
    "signed_message": "webhooks",
    "throwaway_certificates": "process",
}

__all__ = [
    "DEFAULT_FAULT_ROUTES",
    "DEPENDENCIES",
    "HOSTS",
    "QUEUED_OUTCOMES",
    "ROUTES",
    "Faults",
    "Host",
    "Route",
    "ServerConfig",
    "ServerURLs",
    "SubmitOutcome",
    "create_app",
    "input_digest",
    "missing_dependencies",
    "running_server",
    "server_process",
    "signed_message",
    "throwaway_certificates",
]


def missing_dependencies() -> list[str]:
    """The dependencies of the ``server`` extra that cannot be imported."""
    missing = []
    for module in DEPENDENCIES:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
