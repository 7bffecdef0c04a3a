"""``falgen serve``: run the local fal-compatible server in the foreground.

It listens on loopback only unless ``--allow-remote`` is given: the server accepts any key by
default and must not become reachable from the network by accident. Its dependencies come with the
``server`` extra; without them the command says how to install it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from generator.errors import SpecErrors

from . import missing_dependencies
from .catalog import load_served_specs
from .config import ROUTES, Faults, ServerConfig
from .urls import ServerURLs, is_loopback_name

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
# The URLs the start-up banner prints (attributes of ServerURLs); models is the catalogue.
BANNER = ("queue", "run", "realtime", "rest", "api", "models", "cdn", "admin")
# Listening on these means every address: no single name to accept in Host headers.
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
# Sets the admin token (else a random one, printed at start).
ADMIN_TOKEN_VARIABLE = "FALGEN_ADMIN_TOKEN"


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "serve",
    help: str | None = None,
) -> argparse.ArgumentParser:
    """Register ``serve`` on an ``argparse`` sub-parser collection; sets ``handler``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description="Serve the queue, run, realtime, REST and CDN APIs of fal for every spec, "
        "with simulated models, for offline development and end-to-end tests.",
    )
    parser.add_argument("--specs", type=Path, default=Path("specs"), help="specs folder")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on (8765)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow listening on a non-loopback address"
    )
    parser.add_argument(
        "--public-url", help="base URL to write into returned links (default: as requested)"
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        dest="allowed_hosts",
        metavar="NAME",
        help="also accept requests naming this host (repeatable; loopback names, --host and "
        "the --public-url host always pass)",
    )
    parser.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help="accept only this API key (repeatable; without it any non-empty key)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for outputs and faults")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])

    timing = parser.add_argument_group("simulated timing")
    timing.add_argument("--queue-delay", type=float, default=0.5, help="seconds IN_QUEUE (0.5)")
    timing.add_argument("--steps", type=int, default=4, help="progress steps IN_PROGRESS (4)")
    timing.add_argument("--step-delay", type=float, default=0.5, help="seconds per step (0.5)")
    timing.add_argument("--runners", type=int, help="concurrent requests per app (unlimited)")
    timing.add_argument(
        "--hold", action="store_true", help="keep requests IN_PROGRESS until released"
    )

    faults = parser.add_argument_group("fault injection (rates are probabilities per request)")
    faults.add_argument("--error-rate", type=float, default=0.0, help="answer with a 5xx")
    faults.add_argument("--error-status", type=int, default=503, help="status of those errors")
    faults.add_argument("--rate-limit-rate", type=float, default=0.0, help="answer with a 429")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After of the 429s")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="close the connection")
    faults.add_argument("--slow-rate", type=float, default=0.0, help="delay the answer")
    faults.add_argument("--slow-delay", type=float, default=1.0, help="seconds of that delay")
    faults.add_argument("--failure-rate", type=float, default=0.0, help="fail the model run")
    faults.add_argument(
        "--fault-route",
        action="append",
        dest="fault_routes",
        choices=ROUTES,
        help="inject faults only on this route (repeatable; default: all API routes)",
    )
    faults.add_argument("--fault-limit", type=int, help="stop after this many faults")
    parser.set_defaults(handler=serve)
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The server configuration the command line describes (raises ValueError when invalid)."""
    fault_options: dict[str, Any] = {}
    if args.fault_routes:
        fault_options["routes"] = frozenset(args.fault_routes)
    allowed_hosts = set(args.allowed_hosts or ())
    if args.host not in WILDCARD_ADDRESSES:
        allowed_hosts.add(args.host)
    options: dict[str, Any] = {}
    if token := os.environ.get(ADMIN_TOKEN_VARIABLE):
        options["admin_token"] = token
    return ServerConfig(
        **options,
        allowed_hosts=frozenset(allowed_hosts),
        accepted_keys=frozenset(args.keys) if args.keys else None,
        queue_delay=args.queue_delay,
        progress_steps=args.steps,
        step_delay=args.step_delay,
        runners=args.runners,
        hold=args.hold,
        seed=args.seed,
        public_url=args.public_url,
        faults=Faults(
            error_rate=args.error_rate,
            error_status=args.error_status,
            rate_limit_rate=args.rate_limit_rate,
            retry_after=args.retry_after,
            drop_rate=args.drop_rate,
            slow_rate=args.slow_rate,
            slow_delay=args.slow_delay,
            failure_rate=args.failure_rate,
            limit=args.fault_limit,
            **fault_options,
        ),
    )


def serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; 0 on a clean stop, 2 on bad options, specs or a missing
    ``server`` extra."""
    missing = missing_dependencies()
    if missing:
        print(
            f"error: falgen serve needs the 'server' extra (missing: {', '.join(missing)}); "
            "install it with: pip install 'falgen[server]'",
            file=sys.stderr,
        )
        return 2
    if not is_loopback_name(args.host) and not args.allow_remote:
        print(
            f"error: refusing to listen on non-loopback address {args.host!r}; "
            "pass --allow-remote to do so anyway",
            file=sys.stderr,
        )
        return 2
    try:
        config = config_from_args(args)
        loaded = load_served_specs(args.specs)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except SpecErrors as problems:
        print(f"error: {problems}", file=sys.stderr)
        return 2
    for unavailable in loaded.unavailable:
        print(
            f"warning: {unavailable.problem} (not served; listed in the catalogue)", file=sys.stderr
        )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    urls = ServerURLs.from_base(config.public_url or f"http://{shown_host}:{args.port}")
    print(f"falgen: serving {len(loaded.documents)} endpoints; point the client at:")
    for name in BANNER:
        print(f"  {name:<9}{getattr(urls, name)}")
    print(f"  (admin needs 'Authorization: Bearer {config.admin_token}' from this machine)")
    from .runner import make_server

    server = make_server(
        loaded.documents,
        config,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=True,
        unavailable=loaded.unavailable,
    )
    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal: that is a clean stop.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0
