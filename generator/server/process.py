"""Run the local server in a child process, for load tests and benchmarks of a client.

In a thread of the client's own process (:func:`generator.server.running_server`), the server
shares the client's interpreter lock and heap; in a child process the client's CPU time and
memory are its own, as against the real fal:

    with server_process(Path("specs"), ServerConfig(queue_delay=0.01)) as urls:
        ...

The parent sends the settings, pickled, on the child's stdin; the child answers with its base URL
on one line of stdout, then serves until its stdin closes (when the parent leaves the block, or
dies). Its log goes to the parent's stderr.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import ServerConfig
from .urls import ServerURLs

STARTUP_TIMEOUT = 60.0  # seconds: loading a thousand specs takes a while
SHUTDOWN_TIMEOUT = 15.0
_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class _Order:
    """What the parent asks the child to serve."""

    specs: Path
    config: ServerConfig
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


@contextmanager
def server_process(
    specs: Path,
    config: ServerConfig | None = None,
    *,
    ssl_certfile: str | os.PathLike[str] | None = None,
    ssl_keyfile: str | os.PathLike[str] | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Iterator[ServerURLs]:
    """Serve the specs in folder ``specs`` from a child process on a free loopback port; yield
    its URLs (``https://`` with a certificate and key). The child stops when the block exits."""
    order = _Order(
        specs=Path(specs).resolve(),
        config=config or ServerConfig(),
        ssl_certfile=None if ssl_certfile is None else os.fspath(ssl_certfile),
        ssl_keyfile=None if ssl_keyfile is None else os.fspath(ssl_keyfile),
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from generator.server.process import main; raise SystemExit(main())",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(pickle.dumps(order))
        child.stdin.flush()
        base = _read_line(child, startup_timeout)
        yield ServerURLs.from_base(base, order.config.admin_token)
    finally:
        child.stdin.close()
        try:
            child.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


def throwaway_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 and localhost that it signed, written to
    ``folder``: (CA, certificate chain, key), the PEM files a TLS server and its clients need.
    For tests and benchmarks over TLS (trustme, of the test and bench extras)."""
    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca.cert_pem.write_to_path(str(paths[0]))
    issued.private_key_and_cert_chain_pem.write_to_path(str(paths[1]))
    issued.private_key_pem.write_to_path(str(paths[2]))
    return paths


def _read_line(child: subprocess.Popen[bytes], timeout: float) -> str:
    """The child's first line of output: its base URL."""
    assert child.stdout is not None
    stdout = child.stdout
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = lines[0].decode().strip() if lines else ""
    if not line.startswith(("http://", "https://")):
        if lines and not lines[0]:
            # Its output ended: it is exiting, though its exit status may not be there yet.
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(SHUTDOWN_TIMEOUT)
        state = "exited" if child.poll() is not None else f"did not answer within {timeout} s"
        raise RuntimeError(f"the local fal server process {state}: {line!r}")
    return line


def main() -> int:
    from .catalog import load_served_specs
    from .runner import running_server

    order: _Order = pickle.load(sys.stdin.buffer)
    loaded = load_served_specs(order.specs)
    with running_server(
        loaded.documents,
        order.config,
        ssl_certfile=order.ssl_certfile,
        ssl_keyfile=order.ssl_keyfile,
        unavailable=loaded.unavailable,
    ) as urls:
        print(urls.base, flush=True)
        sys.stdin.buffer.read()  # until the parent closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
