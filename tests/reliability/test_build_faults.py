"""Builds that fail, die or collide, and indexes that are missing or damaged.

A build killed half-way leaves the previous index serving and its leftovers are
removed by the next build; a failed build cleans up after itself; a second build
at once stops with a clear message or waits. A missing or damaged index makes the
CLI print one line and exit non-zero, and the service answer 503
``index_unavailable`` with the reason, on every route.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from corpus.records import CodeRecord
from indexer.build import BuildError, build_index, build_lock, current_build, swap_index
from service.app import create_app
from tests.conftest import REPO_ROOT
from tests.reliability.conftest import SLICES, client_class
from tests.reliability.shapes import assert_error_shape

pytestmark = [
    pytest.mark.full,
    # Whoosh opens a damaged segment and fails before closing it (in its own
    # CompoundStorage); the handle is closed by the garbage collector with a
    # ResourceWarning, which is expected here and nowhere else.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

ROUTES = [
    "/api/health",
    "/api/search?q=cholera",
    "/api/suggest?q=chol",
    "/api/facets",
    "/api/codes/A00",
]


@pytest.fixture(autouse=True)
def collect_leaked_handles() -> Iterator[None]:
    """Close the handles a damaged index leaked now, not during a later test."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def pristine(
    icd_records: Sequence[CodeRecord], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A finished small build (A00-D10) to copy and damage."""
    home = tmp_path_factory.mktemp("pristine")
    return build_index(icd_records[SLICES[0]], home)


def home_with(pristine: Path, root: Path, damage: Callable[[Path], object]) -> Path:
    """A home whose current build is a copy of ``pristine`` with ``damage`` done."""
    home = root / "home"
    build = home / "builds" / pristine.name
    shutil.copytree(pristine, build)
    swap_index(home, build)
    damage(build)
    return home


def truncate(relative: str, keep: float) -> Callable[[Path], None]:
    """Cut a file to ``keep`` bytes, or to that share of its size if below 1."""

    def damage(build: Path) -> None:
        path = next(build.glob(relative))
        data = path.read_bytes()
        path.write_bytes(data[: int(keep * len(data)) if keep < 1 else int(keep)])

    return damage


def empty(build: Path) -> None:
    shutil.rmtree(build)
    build.mkdir()


DAMAGE: dict[str, Callable[[Path], object]] = {
    "no build directory": lambda build: shutil.rmtree(build),
    "empty build directory": lambda build: empty(build),
    "no whoosh index": lambda build: shutil.rmtree(build / "whoosh"),
    "no columns": lambda build: shutil.rmtree(build / "columns"),
    "whoosh table of contents cut": truncate("whoosh/_MAIN_1.toc", 50),
    "whoosh segment cut short": truncate("whoosh/*.seg", 1000),
    "whoosh segment cut in half": truncate("whoosh/*.seg", 0.5),
    "columns metadata cut": truncate("columns/meta.json", 1000),
    "columns metadata emptied": lambda build: (build / "columns/meta.json").write_text(
        "{}"
    ),
    "postings array cut": truncate("columns/full_docs.npy", 200),
}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MEDCODES_DATA",)}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], *words: str
) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("medcodes: error: "), result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def assert_unavailable_everywhere(home: Path, *words: str) -> None:
    with client_class()(create_app(home), raise_server_exceptions=False) as client:
        for route in ROUTES:
            response = client.get(route)
            error = assert_error_shape(response.json(), 503)
            assert error["type"] == "index_unavailable", route
            for word in words:
                assert word in error["message"], (route, error["message"])


# -- missing and damaged indexes -------------------------------------------------


def test_no_index_at_all(tmp_path: Path) -> None:
    home = tmp_path / "nothing-here"
    assert_unavailable_everywhere(home, "medcodes build")
    assert_one_line_error(run_cli("search", "cholera", "--home", str(home)), "no index")


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=list(DAMAGE))
def test_damaged_index_is_unavailable_not_a_crash(
    pristine: Path, tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    home = home_with(pristine, tmp_path, damage)
    assert_unavailable_everywhere(home, "rebuild")
    assert_one_line_error(run_cli("search", "cholera", "--home", str(home)), "rebuild")


@pytest.mark.parametrize("command", [["suggest", "chol"], ["show", "A00"], ["facets"]])
def test_every_reading_command_reports_a_damaged_index(
    pristine: Path, tmp_path: Path, command: list[str]
) -> None:
    home = home_with(pristine, tmp_path, truncate("whoosh/*.seg", 0.5))
    assert_one_line_error(run_cli(*command, "--home", str(home)), "rebuild")


def test_damaged_build_swapped_in_keeps_the_old_one_serving(
    pristine: Path, tmp_path: Path
) -> None:
    home = home_with(pristine, tmp_path, lambda build: None)
    damaged = home / "builds" / "damaged"
    shutil.copytree(pristine, damaged)
    truncate("whoosh/*.seg", 1000)(damaged)
    with client_class()(create_app(home), raise_server_exceptions=False) as client:
        assert client.get("/api/health").json()["index"] == pristine.name
        swap_index(home, damaged)
        for _ in range(3):
            for route in ROUTES:
                assert client.get(route).status_code == 200, route
        assert client.get("/api/health").json()["index"] == pristine.name


# -- builds that fail, die or collide --------------------------------------------


def test_failed_build_cleans_up_and_keeps_the_previous_index(
    pristine: Path, icd_records: Sequence[CodeRecord], tmp_path: Path
) -> None:
    home = home_with(pristine, tmp_path, lambda build: None)

    def fail(done: int, total: int) -> None:
        raise OSError(f"disk full after {done} of {total} (injected)")

    with pytest.raises(OSError, match="injected"):
        build_index(icd_records[SLICES[1]], home, progress=fail)
    assert current_build(home) == (home / "builds" / pristine.name).resolve()
    assert [p.name for p in (home / "builds").iterdir()] == [pristine.name]


def _partial_builds(home: Path) -> list[Path]:
    return list((home / "builds").glob("*.partial"))


def test_killed_build_leaves_the_previous_index_serving(
    pristine: Path, icd_records: Sequence[CodeRecord], tmp_path: Path
) -> None:
    home = home_with(pristine, tmp_path, lambda build: None)
    env = {k: v for k, v in os.environ.items() if k != "MEDCODES_DATA"}
    build = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "build", "--home", str(home)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not _partial_builds(home):
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # let it write part of the index
        assert build.poll() is None
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == -signal.SIGKILL
    leftovers = _partial_builds(home)
    assert len(leftovers) == 1 and any(leftovers[0].iterdir())

    # The previous index serves as if nothing happened.
    assert current_build(home) == (home / "builds" / pristine.name).resolve()
    with client_class()(create_app(home)) as client:
        assert client.get("/api/health").json()["index"] == pristine.name
        assert client.get("/api/search", params={"q": "cholera"}).json()["total"] > 0

    # The next build removes the leftovers (the dead build's lock is free too).
    final = build_index(icd_records[SLICES[1]], home)
    assert not _partial_builds(home)
    assert current_build(home) == final.resolve()


@pytest.fixture
def held_lock(pristine: Path, tmp_path: Path) -> Iterator[Path]:
    """A home whose build lock is held, as by a build running elsewhere."""
    home = home_with(pristine, tmp_path, lambda build: None)
    with build_lock(home):
        yield home


def test_second_build_stops_with_a_clear_message(
    held_lock: Path, icd_records: Sequence[CodeRecord]
) -> None:
    with pytest.raises(BuildError, match=r"another build is running .* --wait"):
        build_index(icd_records[SLICES[1]], held_lock)
    assert not _partial_builds(held_lock)
    result = run_cli("build", "--home", str(held_lock))
    assert_one_line_error(result, "another build is running", f"pid {os.getpid()}")


def test_second_build_with_wait_runs_after_the_first(
    pristine: Path, icd_records: Sequence[CodeRecord], tmp_path: Path
) -> None:
    home = home_with(pristine, tmp_path, lambda build: None)
    built: list[Path] = []
    with build_lock(home):
        waiting = threading.Thread(
            target=lambda: built.append(
                build_index(icd_records[SLICES[1]], home, wait=True)
            )
        )
        waiting.start()
        time.sleep(1.0)
        assert waiting.is_alive() and not built
        assert current_build(home) == (home / "builds" / pristine.name).resolve()
    waiting.join(timeout=120)
    assert len(built) == 1 and current_build(home) == built[0].resolve()
