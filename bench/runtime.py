"""The generated client against the official fal-client, both talking to the local server.

Two figures, each measured for both clients in the same run:

- **completion latency**: from the moment the server marks a request COMPLETED (it records
  ``time.monotonic()``, a system-wide clock, in its stats) to the moment the caller's
  ``subscribe`` returns the result (the client records ``time.monotonic()`` too). Calls are
  made one at a time; the server holds each request until a random moment 50-250 ms after
  submission, so that a polling client meets completions at every phase of its polling beat.
- **throughput**: requests per second of N concurrent async subscribes (1,000 by default).

fal-client only speaks https and takes host names (``FAL_QUEUE_RUN_HOST``), so the server
speaks TLS with a certificate from a throwaway CA (trusted through ``SSL_CERT_FILE``) and serves
its queue at the root path, as ``queue.fal.run`` does. Both clients get the very same
environment. Each client runs in a fresh child process, the server in another, so that neither
shares an interpreter with the other.

    python -m bench.runtime [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.results import Result, render_table

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GENERATED = ROOT / "generated"
ENDPOINT = "fal-ai/flux-1/schnell"
KEY = "bench-key-7c2d9e4f1a"
CLIENTS = ("fal-models", "fal-client")
# A small image keeps the simulated model cheap: the server's PNG encoding is not under test.
ARGUMENTS: dict[str, Any] = {"image_size": {"width": 64, "height": 64}}
HOLD_RANGE = (0.05, 0.25)  # seconds between submission and release, in the latency runs
WORKER_TIMEOUT = 600.0
LATENCY_TARGET = 0.2  # ours at most this fraction of fal-client's


def run(quick: bool = False) -> list[Result]:
    """Measure both clients; ``quick`` makes a handful of calls, to check that it all works."""
    latency_calls, concurrent = (3, 20) if quick else (40, 1000)
    from generator.server import ServerConfig, server_process

    with tempfile.TemporaryDirectory(prefix="falgen-bench-") as folder:
        ca, cert, key = _certificates(Path(folder))
        tls = {"ssl_certfile": cert, "ssl_keyfile": key}
        trusted = ssl.create_default_context(cafile=str(ca))
        timings = {"queue_delay": 0.005, "progress_steps": 1, "step_delay": 0.005}
        latencies: dict[str, list[float]] = {}
        throughput: dict[str, dict[str, Any]] = {}

        held = ServerConfig(root_host="queue", hold=True, **timings)
        with server_process(SPECS, held, **tls) as urls:
            for client in CLIENTS:
                report = _worker(client, "latency", latency_calls, urls.base, ca)
                completed = _completion_times(urls.admin, trusted)
                latencies[client] = [
                    returned - completed[request_id]
                    for request_id, returned in report["returned"].items()
                ]

        for client in CLIENTS:  # a fresh server each, so the first run does not slow the second
            with server_process(SPECS, ServerConfig(root_host="queue", **timings), **tls) as urls:
                throughput[client] = _worker(client, "throughput", concurrent, urls.base, ca)

    return _results(latencies, throughput, concurrent)


def _results(
    latencies: dict[str, list[float]], throughput: dict[str, dict[str, Any]], concurrent: int
) -> list[Result]:
    results = []
    for name, pick in (("median", statistics.median), ("p95", _p95)):
        ours, theirs = (pick(latencies[client]) * 1000 for client in CLIENTS)
        ratio = theirs / ours if ours > 0 else None
        results.append(
            Result(
                name=f"completion -> result in hand, {name}",
                value=ours,
                unit="ms",
                baseline=f"fal-client: {theirs:.3g} ms",
                ratio=ratio,
                target=f"<= {LATENCY_TARGET}x fal-client",
                met=ours <= LATENCY_TARGET * theirs,
                note=f"{len(latencies['fal-models'])} sequential calls each",
            )
        )
    rates = {
        client: report["completed"] / report["seconds"] for client, report in throughput.items()
    }
    ours, theirs = rates["fal-models"], rates["fal-client"]
    failures = {client: report["failed"] for client, report in throughput.items()}
    cpu = {
        client: report["cpu_seconds"] / max(1, report["completed"]) * 1000
        for client, report in throughput.items()
    }
    results.append(
        Result(
            name=f"throughput, {concurrent:,} concurrent async subscribes",
            value=ours,
            unit="req/s",
            baseline=f"fal-client: {theirs:.3g} req/s",
            ratio=ours / theirs if theirs > 0 else None,
            target=">= fal-client",
            met=ours >= theirs and not failures["fal-models"],
            note=(
                f"client CPU per request: {cpu['fal-models']:.2f} ms ours, "
                f"{cpu['fal-client']:.2f} ms fal-client; failed calls: {failures}"
            ),
        )
    )
    return results


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 it signed: (ca, cert chain, key)."""
    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca.cert_pem.write_to_path(str(paths[0]))
    issued.private_key_and_cert_chain_pem.write_to_path(str(paths[1]))
    issued.private_key_pem.write_to_path(str(paths[2]))
    return paths


def _completion_times(admin_url: str, trusted: ssl.SSLContext) -> dict[str, float]:
    stats = httpx.get(f"{admin_url}/stats", verify=trusted, timeout=60).json()
    return {
        request_id: record["completed_monotonic"]
        for request_id, record in stats["requests"].items()
        if record["completed_monotonic"] is not None
    }


def _worker(client: str, phase: str, count: int, base: str, ca: Path) -> dict[str, Any]:
    """Run one client's measurement in a fresh interpreter; its JSON report."""
    host = base.removeprefix("https://")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("FAL_")},
        "FAL_KEY": KEY,
        "FAL_QUEUE_RUN_HOST": host,
        "FAL_RUN_HOST": host,
        "SSL_CERT_FILE": str(ca),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), str(GENERATED), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [sys.executable, "-m", "bench.runtime", "--worker", client, phase, str(count), base]
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {client} {phase} worker failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# --- inside a worker process -------------------------------------------------------------------


class _Ours:
    """The generated client, configured from the environment like fal-client."""

    def __init__(self) -> None:
        from fal_models import AsyncFalClient

        self.client = AsyncFalClient()

    async def subscribe(self, arguments: dict[str, Any], on_enqueue: Any = None) -> object:
        return await self.client.flux_1_schnell(**arguments, on_enqueue=on_enqueue)

    async def aclose(self) -> None:
        await self.client.aclose()


class _Official:
    """fal-client, configured from the environment (FAL_KEY, FAL_QUEUE_RUN_HOST)."""

    def __init__(self) -> None:
        import fal_client

        self.client = fal_client.AsyncClient()

    async def subscribe(self, arguments: dict[str, Any], on_enqueue: Any = None) -> object:
        return await self.client.subscribe(ENDPOINT, arguments, on_enqueue=on_enqueue)

    async def aclose(self) -> None:
        http = await self.client._client  # fal-client has no public close
        await http.aclose()


async def _latency(client: _Ours | _Official, count: int, base: str) -> dict[str, Any]:
    returned: dict[str, float] = {}
    rng = random.Random(0)
    async with httpx.AsyncClient(timeout=30) as admin:

        async def release(request_id: str, delay: float) -> None:
            await asyncio.sleep(delay)
            (await admin.post(f"{base}/_admin/release/{request_id}")).raise_for_status()

        releases: dict[str, asyncio.Future[None]] = {}

        def enqueued(request_id: str) -> None:
            delay = rng.uniform(*HOLD_RANGE)
            releases[request_id] = asyncio.ensure_future(release(request_id, delay))

        for index in range(count):
            await client.subscribe({"prompt": f"latency {index}", **ARGUMENTS}, enqueued)
            done = time.monotonic()
            (request_id,) = set(releases) - set(returned)
            returned[request_id] = done
        await asyncio.gather(*releases.values())
    return {"returned": returned}


async def _throughput(client: _Ours | _Official, count: int) -> dict[str, Any]:
    async def one(index: int) -> bool:
        try:
            await client.subscribe({"prompt": f"throughput {index}", "seed": index, **ARGUMENTS})
        except Exception as error:  # counted, and named in the report
            print(f"call {index} failed: {error!r}", file=sys.stderr)
            return False
        return True

    await client.subscribe({"prompt": "warm-up", **ARGUMENTS})  # imports, TLS, first connection
    started, cpu = time.monotonic(), time.process_time()
    outcomes = await asyncio.gather(*(one(index) for index in range(count)))
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu
    return {
        "completed": sum(outcomes),
        "failed": count - sum(outcomes),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }


async def _work(name: str, phase: str, count: int, base: str) -> dict[str, Any]:
    client = _Ours() if name == "fal-models" else _Official()
    try:
        if phase == "latency":
            return await _latency(client, count, base)
        return await _throughput(client, count)
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtime", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few calls: does it all work?")
    parser.add_argument("--worker", nargs=4, metavar=("CLIENT", "PHASE", "COUNT", "BASE"))
    args = parser.parse_args(argv)
    if args.worker:
        name, phase, count, base = args.worker
        print(json.dumps(asyncio.run(_work(name, phase, int(count), base))))
        return 0
    print(render_table(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
