"""Finding the current index and following it when a new build is swapped in.

Each request takes one :class:`Engine` at its start and uses only that one, so it
never mixes an old index with a new one. When ``current`` points somewhere new,
the first request to notice loads the new engine while the others go on with the
old one; once loaded, it replaces the old one for later requests.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from indexer.build import current_build
from search.engine import Engine
from search.errors import IndexUnavailable

log = logging.getLogger(__name__)


class IndexHome:
    """The index home a service reads from, followed across swaps."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._engine: Engine | None = None
        self._target: str | None = None
        self._loading = threading.Lock()

    def _link_target(self) -> str | None:
        try:
            return os.readlink(self.home / "current")
        except OSError:
            return None

    def engine(self) -> Engine:
        """The engine for the current build, reloaded if ``current`` moved."""
        target = self._link_target()
        engine = self._engine
        if engine is not None and target == self._target:
            return engine
        if target is None:
            if engine is not None:
                return engine
            raise IndexUnavailable(
                f"no index in {self.home}: build one with `medcodes build`"
            )
        if engine is not None and not self._loading.acquire(blocking=False):
            return engine  # another request is loading the new build
        if engine is None:
            self._loading.acquire()
        try:
            if self._target != target or self._engine is None:
                build = current_build(self.home)
                if build is None:
                    raise IndexUnavailable(
                        f"the index in {self.home} points at a missing build "
                        f"({target}); rebuild it with `medcodes build`"
                    )
                try:
                    self._engine = Engine(build)
                except Exception as error:
                    # Whoosh reports some damage (a truncated segment) with its own
                    # errors, from outside Engine's check: all of it means unusable.
                    unusable = _unusable(build, error)
                    if engine is None:
                        raise unusable from error
                    # Keep serving the build we have rather than fail every request.
                    log.error("still serving the old build: %s", unusable)
                self._target = target
                log.info("serving build %s", build.name)
            if self._engine is None:
                raise IndexUnavailable(f"no usable index in {self.home}")
            return self._engine
        finally:
            self._loading.release()


def _unusable(build: Path, error: Exception) -> IndexUnavailable:
    if isinstance(error, IndexUnavailable):
        return error
    return IndexUnavailable(
        f"the index at {build} cannot be opened ({type(error).__name__}: {error}); "
        "rebuild it with `medcodes build`"
    )
