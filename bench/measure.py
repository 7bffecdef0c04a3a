"""How every benchmark measures: commands in subprocesses, paired and interleaved, with repeats.

A :class:`Sample` is one run of one command: its wall time, the CPU time of the whole process
tree (user + system, children that were waited for included) and the peak resident memory of the
tree (sampled from /proc while it runs, so that worker processes count too). :func:`interleaved`
runs several contenders round by round (A B A B ...), so that a machine that slows down or warms
up during the run affects each of them alike; :class:`Stats` gives the median and the spread.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + system, of the process and the children it waited for
    peak_rss: int  # bytes, the largest total resident memory of the process tree seen
    returncode: int = 0
    output: str = ""  # stdout and stderr, for the notes and for errors


@dataclass(frozen=True)
class Stats:
    """Median and spread (min, max) of the wall and CPU times of repeated samples."""

    samples: tuple[Sample, ...]

    @property
    def wall(self) -> float:
        return statistics.median(sample.wall for sample in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(sample.cpu for sample in self.samples)

    @property
    def peak_rss(self) -> int:
        return max(sample.peak_rss for sample in self.samples)

    @property
    def spread(self) -> tuple[float, float]:
        walls = [sample.wall for sample in self.samples]
        return min(walls), max(walls)

    def per(self, count: int) -> Stats:
        """The same runs, each divided by ``count`` (per endpoint, per call...)."""
        return Stats(
            tuple(
                Sample(s.wall / count, s.cpu / count, s.peak_rss, s.returncode, s.output)
                for s in self.samples
            )
        )

    def minus(self, baseline: Stats) -> Stats:
        """These runs less the median of ``baseline`` (e.g. a bare interpreter's start)."""
        wall, cpu = baseline.wall, baseline.cpu
        return Stats(
            tuple(
                Sample(s.wall - wall, s.cpu - cpu, s.peak_rss, s.returncode, s.output)
                for s in self.samples
            )
        )


def run_command(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 3600,
) -> Sample:
    """Run ``command`` to completion and measure it."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(part) for part in command],
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        sampler = _TreeMemory(process.pid)
        sampler.start()
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    sample = Sample(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss=max(sampler.peak, usage.ru_maxrss * 1024),
        returncode=process.returncode,
        output=text,
    )
    if check and sample.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise RuntimeError(f"{shown} exited with {sample.returncode}:\n{text[-4000:]}")
    return sample


def interleaved(
    contenders: Mapping[str, Callable[[int], Sample]], repeats: int
) -> dict[str, Stats]:
    """Run each contender ``repeats`` times, round by round in the order given (A B A B ...).

    Each callable gets the round's number (0-based), e.g. to change a different spec each time.
    """
    samples: dict[str, list[Sample]] = {name: [] for name in contenders}
    for round_number in range(repeats):
        for name, contender in contenders.items():
            samples[name].append(contender(round_number))
    return {name: Stats(tuple(found)) for name, found in samples.items()}


class _TreeMemory:
    """Polls the resident memory of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._done.wait(self.interval)


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, parent = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total
