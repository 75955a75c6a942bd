"""Build an index into a new versioned directory and switch to it atomically.

Layout of an index home::

    HOME/
      current -> builds/20261203-170102-4242   (symlink, swapped with os.replace)
      builds/20261203-170102-4242/whoosh/     (the Whoosh index)
      builds/20261203-170102-4242/columns/    (see indexer.columns)
      builds/20261203-170102-4242/manifest.json
      builds/<name>.partial/                  (a build in progress, or a killed one)
      build.lock                              (held while a build runs)

A build writes everything into ``<name>.partial``, syncs it, renames it, then
points ``current`` at it. Until that last step the previous index keeps serving,
so a failed or killed build loses nothing; the next build removes its leftovers.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import fcntl
import json
import logging
import multiprocessing.util
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec

from corpus.categories import category_labels
from corpus.records import SYSTEM_LABELS, CodeRecord
from corpus.specialties import specialty_labels
from indexer.abbreviations import Lexicon
from indexer.columns import write_columns
from indexer.schema import build_schema, to_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
KEEP_PREVIOUS = 1
PR_SET_PDEATHSIG = 1


def _die_with_parent(_: object) -> None:
    """In a Whoosh writer subprocess: be killed when the build process dies.

    Whoosh's writer processes wait on a queue forever; if the build is killed,
    they would linger holding the build lock they inherited.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: nothing to arrange
        pass


multiprocessing.util.register_after_fork(_die_with_parent, _die_with_parent)


class BuildError(Exception):
    """A build could not be started or finished; the previous index is untouched."""


@contextmanager
def build_lock(home: Path, wait: bool = False) -> Iterator[None]:
    """Hold the home's build lock; a second build waits or fails clearly."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "build.lock", "a+") as handle:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BuildError(
                f"another build is running in {home} ({holder}); wait for it or "
                "pass --wait"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_build(home: Path) -> Path | None:
    """The build directory ``current`` points at, or None if there is none."""
    link = home / "current"
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def _labels(records: Sequence[CodeRecord]) -> dict[str, dict[str, str]]:
    # Parent levels (BETOS families) are named by the category tables.
    categories = category_labels(records)
    specialties = dict(specialty_labels())
    for record in records:
        for specialty in record.specialties:
            specialties.setdefault(specialty, specialty.replace("-", " ").title())
    return {
        "system": dict(SYSTEM_LABELS),
        "category": categories,
        "specialty": specialties,
    }


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def build_index(
    records: Sequence[CodeRecord],
    home: Path,
    *,
    sources: Sequence[dict[str, Any]] = (),
    progress: Progress | None = None,
    wait: bool = False,
    locked: bool = False,
) -> Path:
    """Index ``records`` into a new build under ``home`` and make it current.

    Returns the new build directory. Raises :class:`BuildError` if another build
    holds the lock (unless ``wait``) or if there is nothing to index. ``locked``
    says the caller already holds :func:`build_lock` (to take it before reading).
    """
    if not records:
        raise BuildError("nothing to index: no records were read")
    with contextlib.nullcontext() if locked else build_lock(home, wait=wait):
        builds = home / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(builds)

        name = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + f"-{os.getpid()}"
        partial = builds / f"{name}.partial"
        partial.mkdir()
        started = time.perf_counter()
        try:
            _write_build(records, partial, progress)
            manifest = {
                "name": name,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "documents": len(records),
                "sources": list(sources),
            }
            (partial / "manifest.json").write_text(json.dumps(manifest, indent=2))
            _fsync_tree(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        final = builds / name
        partial.rename(final)
        swap_index(home, final)
        _remove_old_builds(builds, keep={final, *_recent(builds, final)})
        log.info(
            "index built: %d documents in %.1f s at %s",
            len(records),
            time.perf_counter() - started,
            final,
        )
        return final


def _write_build(
    records: Sequence[CodeRecord], directory: Path, progress: Progress | None
) -> None:
    lexicon = Lexicon.load_default()
    whoosh_dir = directory / "whoosh"
    whoosh_dir.mkdir()
    index = whoosh_index.create_in(str(whoosh_dir), build_schema())
    # Uncompressed posting blocks: the columns are what search reads, and zlib
    # was a tenth of the build time.
    # Two writer processes, each its own segment: the machine has two cores, and
    # a single writer measured 68 s of the full build's 93 s.
    writer = index.writer(
        procs=2, multisegment=True, limitmb=256, codec=W3Codec(compression=0)
    )
    total = len(records)
    started = time.perf_counter()
    try:
        for done, record in enumerate(records, start=1):
            expanded = lexicon.expand_text(record.short) if record.short else ""
            writer.add_document(**to_document(record, expanded))
            if progress and (done % 2000 == 0 or done == total):
                progress(done, total)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    log.info("whoosh index written: %d documents in %.1f s", total, _since(started))
    started = time.perf_counter()
    write_columns(index, directory / "columns", list(records), _labels(records))
    log.info("columns written in %.1f s", _since(started))


def _since(started: float) -> float:
    return time.perf_counter() - started


def swap_index(home: Path, build: Path) -> None:
    """Point ``home/current`` at ``build`` in one atomic rename."""
    temporary = home / f".current-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(build.relative_to(home))
    os.replace(temporary, home / "current")


def _remove_leftovers(builds: Path) -> None:
    for path in builds.glob("*.partial"):
        log.warning("removing an unfinished build left behind: %s", path)
        shutil.rmtree(path, ignore_errors=True)


def _recent(builds: Path, final: Path) -> list[Path]:
    finished = sorted(
        (
            p
            for p in builds.iterdir()
            if p.is_dir() and p != final and "." not in p.name
        ),
        key=lambda p: p.name,
    )
    return finished[-KEEP_PREVIOUS:] if KEEP_PREVIOUS else []


def _remove_old_builds(builds: Path, keep: set[Path]) -> None:
    for path in builds.iterdir():
        if path.is_dir() and path not in keep and not path.name.endswith(".partial"):
            shutil.rmtree(path, ignore_errors=True)
