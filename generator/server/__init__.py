"""A local fal-compatible server generated from the same specs as the client.

Developers use it to work offline (``falgen serve``); the test suite uses it to exercise generated
clients end to end, including the failures real networks and fal's platform produce.
"""

from .app import create_app
from .config import DEFAULT_FAULT_ROUTES, ROUTES, Faults, Route, ServerConfig
from .runner import running_server
from .stats import input_digest
from .urls import ServerURLs
from .webhooks import signed_message

__all__ = [
    "DEFAULT_FAULT_ROUTES",
    "ROUTES",
    "Faults",
    "Route",
    "ServerConfig",
    "ServerURLs",
    "create_app",
    "input_digest",
    "running_server",
    "signed_message",
]
