"""The generated client against the official fal-client, both talking to the local server.

Each figure is measured for both clients in the same run, round by round (ours, theirs, ours,
theirs...), each client in a fresh child process, the server in another:

- **completion latency**: from the moment the server marks a request COMPLETED (it records
  ``time.monotonic()``, a system-wide clock) to the moment the caller's ``subscribe`` returns
  the result. Calls are made one at a time; the server holds each request until a moment
  50-250 ms after submission, spread evenly over that range in each round (new moments every
  round, the same for both clients), so that a polling client meets completions at every phase
  of its polling beat. Two rows: each client as it comes (ours follows the status stream, fal-client
  polls every 0.1 s), and polling against polling (ours with the status stream turned off,
  polling at fal-client's interval): the second compares like with like.
- **throughput**: completed requests per second of N concurrent async subscribes, at 10, 100
  and 1,000, with the client process's CPU time per request beside it; a fresh server for
  every run.

fal-client only speaks https and takes host names (``FAL_QUEUE_RUN_HOST``), so the server
speaks TLS with a certificate from a throwaway CA (trusted through ``SSL_CERT_FILE``) and serves
its queue at the root path, as ``queue.fal.run`` does. Both clients get the very same
environment.

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
from typing import TYPE_CHECKING, Any

import httpx

from bench.results import Result, render_table
from generator.server.cli import ADMIN_TOKEN_VARIABLE  # how a worker learns the admin token

if TYPE_CHECKING:
    from generator.server import ServerURLs

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


FAL_CLIENT_POLL_INTERVAL = 0.1  # seconds: fal-client's default between status polls


def run(quick: bool = False) -> list[Result]:
    """Measure both clients; ``quick`` makes a handful of calls, to check that it all works."""
    rounds, calls = (1, 3) if quick else (4, 10)
    levels = (10, 20) if quick else (10, 100, 1000)
    from generator.server import ServerConfig, server_process, throwaway_certificates

    with tempfile.TemporaryDirectory(prefix="falgen-bench-") as folder:
        ca, cert, key = throwaway_certificates(Path(folder))
        tls = {"ssl_certfile": cert, "ssl_keyfile": key}
        trusted = ssl.create_default_context(cafile=str(ca))
        timings = {"queue_delay": 0.005, "progress_steps": 1, "step_delay": 0.005}
        latencies: dict[str, list[float]] = {mode: [] for mode in LATENCY_MODES}
        held = ServerConfig(root_host="queue", hold=True, **timings)
        with server_process(SPECS, held, **tls) as urls:
            for round_ in range(rounds):  # each round its own hold times, the same for all
                for mode in LATENCY_MODES:
                    report = _worker(mode, calls, urls.base, ca, urls.admin_token, seed=round_)
                    completed = _completion_times(urls, trusted)
                    latencies[mode] += [
                        returned - completed[request_id]
                        for request_id, returned in report["returned"].items()
                    ]
        throughput: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for level in levels:
            for _ in range(rounds):
                for client in CLIENTS:  # a fresh server each: one run does not slow the next
                    config = ServerConfig(root_host="queue", **timings)
                    with server_process(SPECS, config, **tls) as urls:
                        report = _worker(f"{client} throughput", level, urls.base, ca)
                    throughput.setdefault((client, level), []).append(report)
    return [*_latency_results(latencies, quick), *_throughput_results(throughput, levels, quick)]


# Worker modes: the client and how it waits. "stream" is our default; "poll" is ours with the
# status stream off, polling at fal-client's interval; fal-client always polls.
LATENCY_MODES = ("fal-models stream", "fal-models poll", "fal-client poll")


def _latency_results(latencies: dict[str, list[float]], quick: bool) -> list[Result]:
    results = []
    theirs = latencies["fal-client poll"]
    rows = (
        (
            "fal-models stream",
            "as each client comes: ours follows the status stream, fal-client polls every 0.1 s",
            ">= 20x better than fal-client",
            lambda o, t: t >= 20 * o,
        ),
        (
            "fal-models poll",
            "polling against polling: ours with the status stream off, at fal-client's interval",
            "<= fal-client's",
            lambda o, t: o <= t,
        ),
    )
    for mode, compares, target, good in rows:
        for label, pick in (("median", statistics.median), ("p95", _p95)):
            ours, their = pick(latencies[mode]), pick(theirs)
            results.append(
                Result(
                    name=f"completion -> result in hand, {label}, {mode.split()[1]}",
                    compares=compares,
                    ours=f"{ours * 1000:.3g} ms",
                    baseline=f"fal-client: {their * 1000:.3g} ms",
                    ratio=their / ours if ours > 0 else None,
                    target=target,
                    met=None if quick else good(ours, their),
                    note=f"{len(latencies[mode])} sequential calls, in rounds with fal-client's",
                )
            )
    return results


def _throughput_results(
    throughput: dict[tuple[str, int], list[dict[str, Any]]], levels: Sequence[int], quick: bool
) -> list[Result]:
    results = []
    for level in levels:
        rate: dict[str, list[float]] = {}
        cpu: dict[str, float] = {}
        failed: dict[str, int] = {}
        for client in CLIENTS:
            reports = throughput[(client, level)]
            rate[client] = [r["completed"] / r["seconds"] for r in reports]
            cpu[client] = statistics.median(
                r["cpu_seconds"] / max(1, r["completed"]) * 1000 for r in reports
            )
            failed[client] = sum(r["failed"] for r in reports)
        ours, theirs = (statistics.median(rate[client]) for client in CLIENTS)
        spread = {client: f"{min(rate[client]):.3g}-{max(rate[client]):.3g}" for client in CLIENTS}
        results.append(
            Result(
                name=f"throughput, {level:,} concurrent async subscribes",
                compares="completed requests per second; client CPU per request beside it",
                ours=f"{ours:.3g} req/s ({spread['fal-models']}), CPU {cpu['fal-models']:.3g} ms",
                baseline=(
                    f"fal-client: {theirs:.3g} req/s ({spread['fal-client']}), "
                    f"CPU {cpu['fal-client']:.3g} ms"
                ),
                ratio=ours / theirs if theirs > 0 else None,
                target=">= 2x fal-client",
                met=None if quick else ours >= 2 * theirs and not failed["fal-models"],
                note=f"{len(rate['fal-models'])} runs each; failed calls: {failed}",
            )
        )
    return results


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _completion_times(urls: ServerURLs, trusted: ssl.SSLContext) -> dict[str, float]:
    stats = httpx.get(
        f"{urls.admin}/stats", headers=urls.admin_headers, verify=trusted, timeout=60
    ).json()
    return {
        request_id: record["completed_monotonic"]
        for request_id, record in stats["requests"].items()
        if record["completed_monotonic"] is not None
    }


def _worker(
    mode: str, count: int, base: str, ca: Path, admin_token: str = "", seed: int = 0
) -> dict[str, Any]:
    """Run one client's measurement (``mode``: "CLIENT HOW") in a fresh interpreter (the latency
    runs release held requests with the server's ``admin_token``, after hold times drawn with
    ``seed``)."""
    host = base.removeprefix("https://")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("FAL_")},
        "FAL_KEY": KEY,
        "FAL_QUEUE_RUN_HOST": host,
        "FAL_RUN_HOST": host,
        "SSL_CERT_FILE": str(ca),
        ADMIN_TOKEN_VARIABLE: admin_token,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), str(GENERATED), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [sys.executable, "-m", "bench.runtime", "--worker", mode, str(count), base]
    command += ["--seed", str(seed)]
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} worker failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# --- inside a worker process -------------------------------------------------------------------


class _Ours:
    """The generated client, configured from the environment like fal-client; ``poll``: the
    status stream off, polling at fal-client's interval."""

    def __init__(self, *, poll: bool = False) -> None:
        from fal_models import AsyncFalClient

        client = AsyncFalClient()
        if poll:
            client = client.with_options(
                stream_status=False, poll_interval=FAL_CLIENT_POLL_INTERVAL
            )
        self.client = client

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


def hold_times(count: int, seed: int) -> list[float]:
    """``count`` hold times spread evenly over HOLD_RANGE, one at a random point of each of
    ``count`` equal slices, shuffled: a polling client meets completions at every phase of its
    beat in every round, rather than at the few phases a handful of random draws would give."""
    rng = random.Random(seed)
    low, high = HOLD_RANGE
    times = [low + (high - low) * (index + rng.random()) / count for index in range(count)]
    rng.shuffle(times)
    return times


async def _latency(
    client: _Ours | _Official, count: int, base: str, seed: int = 0
) -> dict[str, Any]:
    returned: dict[str, float] = {}
    holds = iter(hold_times(count, seed))
    token = {"Authorization": f"Bearer {os.environ[ADMIN_TOKEN_VARIABLE]}"}
    async with httpx.AsyncClient(timeout=30, headers=token) as admin:

        async def release(request_id: str, delay: float) -> None:
            await asyncio.sleep(delay)
            (await admin.post(f"{base}/_admin/release/{request_id}")).raise_for_status()

        releases: dict[str, asyncio.Future[None]] = {}

        def enqueued(request_id: str) -> None:
            delay = next(holds)
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


async def _work(mode: str, count: int, base: str, seed: int = 0) -> dict[str, Any]:
    name, how = mode.split()
    client = _Official() if name == "fal-client" else _Ours(poll=how == "poll")
    try:
        if how == "throughput":
            return await _throughput(client, count)
        return await _latency(client, count, base, seed)
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtime", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few calls: does it all work?")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "COUNT", "BASE"))
    parser.add_argument("--seed", type=int, default=0, help="of a latency worker's hold times")
    args = parser.parse_args(argv)
    if args.worker:
        mode, count, base = args.worker
        print(json.dumps(asyncio.run(_work(mode, int(count), base, args.seed))))
        return 0
    print(render_table(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
