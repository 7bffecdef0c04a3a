"""Many concurrent async subscribes against a server that injects faults.

The claims, each checked for every request:

- every call ends, with the endpoint's output or a typed ``fal_models`` error (no other
  exception, no hang);
- none is lost: each output is the one of its own input, and each request the server queued
  belongs to a call;
- none is submitted twice, unless every earlier attempt provably never reached the model: the
  server logs every submission attempt by input digest with its fate (queued, queued with the
  reply dropped, refused with 429, dropped or refused with 5xx before processing);
- the client's memory stays flat: what the second half of the calls leaves allocated once they
  have all ended stays within a small bound (the test's own record of each call, and slack).

The server runs in a child process, so that this process's memory is the client's alone. The
normal run makes a few dozen requests; a slower job makes a thousand:

    FALGEN_LOAD_REQUESTS=1000 python -m pytest tests/load --timeout=0
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from generator.server import QUEUED_OUTCOMES, Faults, ServerConfig, input_digest, server_process
from tests.helpers import SPECS

KEY = "load-key-0d5e7a61c2f94b38"
ENDPOINT = "fal-ai/flux-1/schnell"
REQUESTS = int(os.environ.get("FALGEN_LOAD_REQUESTS", "60"))
CONCURRENCY = int(os.environ.get("FALGEN_LOAD_CONCURRENCY", "24"))
# What the client may repeat a submission after: the server refused it (429) or provably never
# read it. After a 5xx or a dropped reply it cannot know, so it must not.
PROVABLY_UNPROCESSED = frozenset({"rate_limited", "dropped_unprocessed"})
# Which error a call that failed while submitting raises, by the fate of its last attempt.
SUBMIT_ERRORS = {
    "server_error": "ServerError",
    "rate_limited": "RateLimitError",  # the retry budget ran out
    "dropped_unprocessed": "APIConnectionError",
    "queued_reply_dropped": "APIConnectionError",
}
# Memory the second half of the calls may leave allocated: room for the test's own bookkeeping
# and for caches, far below a leaked response, handle or connection per call.
MEMORY_SLACK = 512 * 1024
MEMORY_PER_REQUEST = 512
# Small images keep the simulated model cheap: the server's PNG encoding is not under test.
IMAGE_SIZE = {"width": 64, "height": 64}


def faults(drop_after_processing: bool) -> Faults:
    return Faults(
        error_rate=0.10,
        rate_limit_rate=0.05,
        # Retry-After is honoured; keep it short (whole seconds are all HTTP allows).
        retry_after=1 if REQUESTS >= 500 else 0,
        drop_rate=0.02,
        drop_after_processing=drop_after_processing,
        slow_rate=0.05,
        slow_delay=0.1,
        failure_rate=0.02,  # the model fails: RequestFailed
    )


@dataclass(frozen=True)
class Outcome:
    """How one call ended; small on purpose (exceptions would keep their frames alive)."""

    index: int
    request_id: str | None
    error: str | None = None
    message: str = ""
    echoed: bool = False  # the output echoes this call's own seed and prompt


def prompt_of(index: int) -> str:
    return f"load test request {index}"


def input_of(index: int) -> dict[str, Any]:
    """What call ``index`` sends: distinct for every call."""
    return {"prompt": prompt_of(index), "seed": index, "image_size": IMAGE_SIZE}


class MemoryProbe:
    """Memory allocated after half of the calls had ended and still held once all have ended
    (the client still open, nothing in flight): what the second half leaves behind. tracemalloc
    runs only for that half (it slows every allocation), so the warm-up (imports, caches, the
    first connections) is left out."""

    def __init__(self, total: int) -> None:
        self.start = max(1, total // 2)
        self.calls = total - self.start
        self.done = 0
        self.held: int | None = None

    def tick(self) -> None:
        self.done += 1
        if self.done == self.start:
            gc.collect()
            tracemalloc.start()

    def finish(self) -> None:
        gc.collect()
        self.held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()


async def run_load(base: str, probe: MemoryProbe) -> list[Outcome | BaseException]:
    from fal_models import AsyncFalClient, FalError

    limit = asyncio.Semaphore(CONCURRENCY)
    async with AsyncFalClient(
        key=KEY,
        queue_url=f"{base}/queue",
        run_url=f"{base}/run",
        rest_url=f"{base}/rest",
        timeout=5.0,
        max_retries=5,
    ) as client:

        async def one(index: int) -> Outcome:
            enqueued: list[str] = []
            async with limit:
                try:
                    output = await client.flux_1_schnell(
                        **input_of(index), on_enqueue=enqueued.append
                    )
                except FalError as error:
                    request_id = enqueued[0] if enqueued else None
                    return Outcome(index, request_id, type(error).__name__, str(error))
                finally:
                    probe.tick()
            echoed = (output.seed, output.prompt) == (index, prompt_of(index))
            return Outcome(index, enqueued[0], echoed=echoed)

        tasks = [asyncio.ensure_future(one(index)) for index in range(REQUESTS)]
        # A generous bound, so that a hang fails the test instead of stalling it.
        done, pending = await asyncio.wait(tasks, timeout=60 + REQUESTS * 0.5)
        if pending:
            for task in pending:
                task.cancel()
            stuck = sorted(tasks.index(task) for task in pending)
            pytest.fail(f"{len(stuck)} calls hung: {stuck[:20]}")
        results = [task.exception() or task.result() for task in tasks]
        # Finished tasks hold state (their frames, anyio's) that is the test's, not the client's.
        del tasks, done, pending
        probe.finish()
        return results


@pytest.mark.parametrize("drop_after_processing", [True, False], ids=["drop-after", "drop-before"])
def test_concurrent_subscribes_under_faults(drop_after_processing: bool) -> None:
    config = ServerConfig(
        accepted_keys=frozenset({KEY}),
        queue_delay=0.005,
        progress_steps=1,
        step_delay=0.005,
        seed=11,
        faults=faults(drop_after_processing),
    )
    probe = MemoryProbe(REQUESTS)
    with server_process(SPECS, config) as urls:
        started = time.monotonic()
        try:
            results = asyncio.run(run_load(urls.base, probe))
        finally:
            tracemalloc.stop()  # when the run ended early
        elapsed = time.monotonic() - started
        stats: dict[str, Any] = httpx.get(
            f"{urls.admin}/stats", headers=urls.admin_headers, timeout=30
        ).json()

    # Every call ended, and only with typed errors.
    untyped = [result for result in results if isinstance(result, BaseException)]
    assert not untyped, f"untyped exceptions: {untyped[:5]!r}"
    outcomes = [result for result in results if isinstance(result, Outcome)]
    assert sorted(outcome.index for outcome in outcomes) == list(range(REQUESTS))

    records: dict[str, Any] = stats["requests"]
    attempts_by_digest: dict[str, list[dict[str, Any]]] = stats["submit_attempts"].get(ENDPOINT, {})
    ours: set[str] = set()
    queued_ids: set[str] = set()
    for outcome in outcomes:
        digest = input_digest(input_of(outcome.index))
        ours.add(digest)
        attempts = attempts_by_digest.get(digest, [])
        fates = [attempt["outcome"] for attempt in attempts]
        where = f"request {outcome.index} ({outcome.error or 'ok'}): attempts {fates}"
        # Never submitted twice: only the last attempt may have queued anything, and every
        # earlier one provably did not take effect.
        assert all(fate in PROVABLY_UNPROCESSED for fate in fates[:-1]), where
        queued = [attempt for attempt in attempts if attempt["outcome"] in QUEUED_OUTCOMES]
        queued_ids.update(attempt["request_id"] for attempt in queued)
        if outcome.request_id is not None:  # submitted: the call followed its own request
            assert [attempt["request_id"] for attempt in queued] == [outcome.request_id], where
            assert fates[-1] == "queued", where
            assert records[outcome.request_id]["status"] == "COMPLETED", where
        else:  # failed while submitting: with the error that the last attempt's fate means
            assert fates, where
            assert outcome.error == SUBMIT_ERRORS[fates[-1]], f"{where}: {outcome.message}"
        if outcome.error is None:  # the output is the one of this call's input
            assert outcome.echoed, where
            assert records[outcome.request_id]["status_code"] == 200, where

    # None lost: every request the server queued is one of these calls'.
    assert set(attempts_by_digest) == ours
    assert {rid for rid, record in records.items() if record["input_digest"] in ours} == queued_ids
    assert stats["submissions"] == {ENDPOINT: len(queued_ids)}

    # The faults did happen, and most calls still succeeded.
    errors = Counter(outcome.error for outcome in outcomes)
    injected = stats["faults"]
    assert {"error", "rate_limit", "slow"} <= set(injected), injected
    assert errors[None] >= REQUESTS * 0.6, errors
    assert set(errors) <= {None, *SUBMIT_ERRORS.values(), "RequestFailed", "ServerError"}, errors

    # Memory stayed flat.
    assert probe.held is not None
    bound = MEMORY_SLACK + MEMORY_PER_REQUEST * probe.calls
    summary = (
        f"{REQUESTS} calls in {elapsed:.1f} s, outcomes {dict(errors)}, faults {injected}, "
        f"memory left by the last {probe.calls} calls: {probe.held / 1024:.0f} KiB"
    )
    print(summary)
    assert probe.held <= bound, f"memory grew by {probe.held} bytes (bound {bound}): {summary}"
