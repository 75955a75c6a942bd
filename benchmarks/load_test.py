"""A bounded load test on loopback: concurrent clients typing and searching.

Starts uvicorn with several workers over an index home (or uses a running server
given by ``--url``), warms it up, then runs a fixed number of client threads for a
fixed time. Each client replays a fixed mix: keystrokes of real queries sent to
``/api/suggest`` (most of the traffic, as in the search page) and whole queries,
some with filters or a second page, sent to ``/api/search``. Prints requests per
second, latency percentiles per route, and errors (any non-200 or failed request).

    .venv/bin/python benchmarks/load_test.py --home /tmp/mc-home \\
        --clients 8 --duration 20 --workers 2

Only the standard library and httpx; loopback only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# What people type: shorthand, lay terms, typos and codes (see the relevance brief).
QUERIES = [
    "bone scn med rsn",
    "diabetes type 2 with hyperglycemia",
    "fx femur",
    "heart attack",
    "chest pain",
    "pnuemonia",
    "wheelchair",
    "copd exacerbation",
    "e11.9",
    "j1100",
    "hypertension",
    "broken wrist",
    "cataract left eye",
    "urinary tract infection",
    "migraine without aura",
    "ambulance",
]
FILTERS: list[dict[str, str | int]] = [
    {},
    {},
    {"system": "icd10cm"},
    {"system": "hcpcs"},
    {"offset": 10},
]
SUGGEST_SHARE = 0.7
FIRST_DAY = dt.date(2024, 1, 1)
# For --cold: words combined into queries no cache has seen.
WORDS = [
    "acute", "chronic", "left", "right", "bilateral", "fracture", "femur", "tibia",
    "wrist", "diabetes", "kidney", "disease", "infection", "pneumonia", "heart",
    "failure", "pain", "chest", "abdominal", "migraine", "ulcer", "pressure",
    "stage", "burn", "skin", "neoplasm", "malignant", "benign", "cyst", "injury",
    "encounter", "wheelchair", "oxygen", "catheter", "injection", "drug", "test",
    "screening", "visit", "hypertension", "asthma", "anemia", "obesity", "sepsis",
    "cataract", "glaucoma", "hearing", "loss",
]  # fmt: skip


@dataclass
class Tally:
    """One client's latencies per route and its errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


def requests_of(
    rng: random.Random, cold: bool
) -> Iterator[tuple[str, dict[str, str | int]]]:
    """An endless, seeded mix of keystrokes (suggest) and whole queries (search).

    ``cold`` makes almost every request one the service's caches have not seen:
    queries of random word pairs, a random validity date and suggestion count.
    """
    while True:
        query = " ".join(rng.sample(WORDS, 2)) if cold else rng.choice(QUERIES)
        if rng.random() < SUGGEST_SHARE:
            start = rng.randint(1, max(1, len(query) - 3))
            limit = rng.randint(5, 20) if cold else 8
            for end in range(start, min(len(query), start + 4) + 1):
                yield "/api/suggest", {"q": query[:end], "limit": limit}
        else:
            extra: dict[str, str | int] = dict(rng.choice(FILTERS))
            if cold:
                day = FIRST_DAY + dt.timedelta(days=rng.randint(0, 729))
                extra["as_of"] = day.isoformat()
            yield "/api/search", {"q": query, **extra}


def client(base: str, seed: int, until: float, tally: Tally | None, cold: bool) -> None:
    """Send requests until ``until``; record them in ``tally`` unless warming up."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as http:
        for route, params in requests_of(rng, cold):
            if time.monotonic() >= until:
                return
            started = time.perf_counter()
            try:
                response = http.get(route, params=params)
                failed = (
                    None if response.status_code == 200 else str(response.status_code)
                )
            except httpx.HTTPError as error:
                failed = type(error).__name__
            elapsed = time.perf_counter() - started
            if tally is None:
                continue
            tally.latencies.setdefault(route, []).append(elapsed)
            if failed:
                tally.errors[f"{route} {failed}"] += 1


def run(
    base: str, clients: int, seconds: float, seed: int, warm: bool, cold: bool
) -> list[Tally]:
    """Run ``clients`` threads for ``seconds``; with ``warm``, discard the results."""
    tallies = [Tally() for _ in range(clients)]
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client,
            args=(base, seed + n, until, None if warm else tallies[n], cold),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


def report(tallies: list[Tally], seconds: float, clients: int, workers: str) -> int:
    """Print the figures; the number of errors."""
    by_route: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    for tally in tallies:
        for route, values in tally.latencies.items():
            by_route.setdefault(route, []).extend(values)
        errors.update(tally.errors)
    every = [v for values in by_route.values() for v in values]
    total = len(every)
    print(f"load: {clients} clients, {seconds:.0f} s, {workers} worker(s)")
    failed = sum(errors.values())
    print(f"requests: {total}  ({total / seconds:.1f} per second)  errors: {failed}")
    rows = [("all", every), *sorted(by_route.items())]
    heads = ("n", "mean", "p50", "p90", "p99", "max")
    print(f"{'route':<14} {heads[0]:>7}" + "".join(f" {h:>9}" for h in heads[1:]))
    for name, values in rows:
        if not values:
            continue
        ms = [v * 1000 for v in values]
        print(
            f"{name:<14} {len(ms):>7} {statistics.fmean(ms):>7.1f}ms"
            f" {percentile(ms, 0.5):>7.1f}ms {percentile(ms, 0.9):>7.1f}ms"
            f" {percentile(ms, 0.99):>7.1f}ms {max(ms):>7.1f}ms"
        )
    for what, count in errors.most_common():
        print(f"error: {what} x{count}")
    return failed


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(home: Path, workers: int, port: int) -> Iterator[str]:
    """uvicorn with ``workers`` processes over ``home`` on 127.0.0.1:``port``."""
    env = {**os.environ, "MEDCODES_HOME": str(home)}
    command = [
        sys.executable, "-m", "uvicorn", "service.app:create_app_from_env", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=Path(__file__).resolve().parents[1]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"load_test: the server exited ({process.returncode})")
            try:
                if httpx.get(f"{base}/api/health", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("load_test: the server did not answer within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the warm-up and the measured load, print the figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument(
        "--home", default=os.environ.get("MEDCODES_HOME", "/tmp/mc-home")
    )
    options.add_argument(
        "--url", help="a running server to load instead of starting one"
    )
    options.add_argument("--clients", type=int, default=8)
    options.add_argument(
        "--duration", type=float, default=20.0, help="seconds measured"
    )
    options.add_argument(
        "--warmup", type=float, default=5.0, help="seconds not measured"
    )
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--port", type=int, default=0, help="default: any free port")
    options.add_argument("--seed", type=int, default=7)
    options.add_argument(
        "--cold", action="store_true", help="queries the caches have not seen"
    )
    args = options.parse_args(argv)
    if args.url and not args.url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("load_test: loopback only (http://127.0.0.1:PORT)")

    def measure(base: str, workers: str) -> int:
        run(base, args.clients, args.warmup, args.seed + 1000, True, args.cold)
        tallies = run(base, args.clients, args.duration, args.seed, False, args.cold)
        print("cold caches" if args.cold else "the fixed query mix (caches warm)")
        return report(tallies, args.duration, args.clients, workers)

    if args.url:
        errors = measure(args.url.rstrip("/"), "?")
    else:
        with server(Path(args.home), args.workers, args.port or free_port()) as base:
            errors = measure(base, str(args.workers))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
