"""A local fal-compatible server generated from the same specs as the client.

Developers use it to work offline (``falgen serve``); the test suite uses it to exercise generated
clients end to end, including the failures real networks and fal's platform produce.
"""

from .app import create_app
from .config import DEFAULT_FAULT_ROUTES, HOSTS, ROUTES, Faults, Host, Route, ServerConfig
from .process import server_process
from .runner import running_server
from .stats import QUEUED_OUTCOMES, SubmitOutcome, input_digest
from .urls import ServerURLs
from .webhooks import signed_message

__all__ = [
    "DEFAULT_FAULT_ROUTES",
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
    "running_server",
    "server_process",
    "signed_message",
]
