"""The index changes under load: no error, and no response mixes two builds.

A real uvicorn server on loopback serves an index home while client threads send
searches, suggestions and health checks. Meanwhile the test swaps ``current``
from build B to build A, then builds a third index C into the same home. The
three builds hold disjoint slices of ICD-10-CM, so every answer can be matched
against what each build answers on its own: each response must equal exactly one
build's answer, each client must see the builds in swap order, and every build
must have served some requests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from corpus.records import CodeRecord
from indexer.build import build_index, swap_index
from search.engine import Engine
from search.results import SearchRequest
from search.suggest import Suggester
from service.app import create_app
from tests.reliability.conftest import SLICES

CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 4000
PHASE_S = 1.5
SEARCHES = ["unspecified", "other", "left", "initial encounter", "fracture", "a0"]
SUGGESTS = ["unsp", "frac", "infe", "left f", "s72", "v8"]


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "no server"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


Answer = tuple[Any, ...]


def answers(build: Path) -> dict[tuple[str, str], Answer]:
    """What one build answers on its own to every request the clients send."""
    engine = Engine(build)
    suggester = Suggester(engine)
    found: dict[tuple[str, str], Answer] = {}
    for query in SEARCHES:
        result = engine.search(SearchRequest(query=query))
        found["search", query] = (result.total, tuple(h.code for h in result.hits))
    for text in SUGGESTS:
        codes = tuple(c.code for c in suggester.suggest(text).codes)
        found["suggest", text] = codes
    found["health", ""] = (build.name,)
    engine.close()
    return found


def answer_of(route: str, body: dict[str, Any]) -> Answer:
    if route == "search":
        return (body["total"], tuple(row["code"] for row in body["results"]))
    if route == "suggest":
        return tuple(row["code"] for row in body["codes"])
    return (body["index"],)


@dataclass
class ClientLog:
    """What one client thread sent and got: (route, text, answer) per request."""

    seen: list[tuple[str, str, Answer]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_client(base: str, number: int, stop: threading.Event, log: ClientLog) -> None:
    plan = [("search", q) for q in SEARCHES] + [("suggest", q) for q in SUGGESTS]
    plan.append(("health", ""))
    with httpx.Client(base_url=base, timeout=30) as http:
        for step in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set():
                return
            route, text = plan[(step + number * 5) % len(plan)]
            url = f"/api/{route}"
            try:
                response = http.get(url, params={"q": text} if text else None)
                if response.status_code != 200:
                    log.errors.append(f"{url} {text!r}: {response.status_code}")
                    continue
                log.seen.append((route, text, answer_of(route, response.json())))
            except httpx.HTTPError as error:
                log.errors.append(f"{url} {text!r}: {error!r}")


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.full
def test_swaps_and_a_build_under_load(
    icd_records: Sequence[CodeRecord], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = build_index(icd_records[SLICES[0]], home)
    second = build_index(icd_records[SLICES[1]], home)
    expected = {first.name: answers(first), second.name: answers(second)}

    stop = threading.Event()
    logs = [ClientLog() for _ in range(CLIENTS)]
    with serving(create_app(home)) as base:
        clients = [
            threading.Thread(target=run_client, args=(base, n, stop, logs[n]))
            for n in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        try:
            time.sleep(PHASE_S)  # B serves
            swap_index(home, first)
            time.sleep(PHASE_S)  # A serves
            third = build_index(icd_records[SLICES[2]], home)  # C, built under load
            expected[third.name] = answers(third)
            wait_until(lambda: _all_saw(logs, third.name), timeout=20)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)

    order = [second.name, first.name, third.name]
    served = {name: 0 for name in order}
    total = sum(len(log.seen) for log in logs)
    errors = [error for log in logs for error in log.errors]
    assert not errors, errors[:10]
    for number, log in enumerate(logs):
        position = 0
        for route, text, answer in log.seen:
            builds = [n for n in order if expected[n][route, text] == answer]
            assert builds, (
                f"client {number}: {route} {text!r} -> {answer} fits no build"
            )
            if len(builds) == 1:
                # Each client sees the builds in swap order, never an older one again.
                assert order.index(builds[0]) >= position, (number, route, text)
                position = order.index(builds[0])
                served[builds[0]] += 1
    print(f"\nswap under load: {total} requests, 0 errors, served by build {served}")
    assert all(count > 0 for count in served.values()), served
    assert total > 100


def _all_saw(logs: list[ClientLog], name: str) -> bool:
    return all(
        any(route == "health" and answer == (name,) for route, _, answer in log.seen)
        for log in logs
    )
