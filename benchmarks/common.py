"""Helpers shared by the benchmark scripts: timing, percentiles, a live server."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
from whoosh import sorting
from whoosh.query import Query

from search.engine import Engine

REPO = Path(__file__).resolve().parents[1]
DEV_QUERIES = REPO / ".." / "shared" / "eval" / "dev-queries.tsv"


def percentile(samples: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) of the samples, nearest rank."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed_ms(function: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def summary(name: str, samples: Sequence[float]) -> str:
    """One line: count, p50, p99, max."""
    return (
        f"{name:<44} n={len(samples):<5} p50={percentile(samples, 0.5):8.2f} ms  "
        f"p99={percentile(samples, 0.99):8.2f} ms  max={max(samples):8.2f} ms  "
        f"mean={statistics.fmean(samples):7.2f} ms"
    )


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_service(home: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """Run ``uvicorn`` over an index home on loopback; yield (base URL, pid)."""
    port = free_port()
    environment = {**os.environ, "MEDCODES_HOME": str(home)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.app:create_app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=environment,
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the service did not become healthy in 120 s")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def peak_memory_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0.0
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
    return total


def whoosh_grouped(engine: Engine, query: Query, limit: int) -> None:
    """The baseline: Whoosh's own search with its grouped facet counts."""
    facets = {
        "system": sorting.FieldFacet("system"),
        "specialty": sorting.FieldFacet("specialty", allow_overlap=True),
        "category": sorting.FieldFacet("category", allow_overlap=True),
    }
    with engine.whoosh.searcher() as searcher:
        results = searcher.search(query, limit=limit, groupedby=facets)
        for name in facets:
            results.groups(name)
