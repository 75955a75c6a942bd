"""The errors the search package raises; the service maps each to one HTTP status."""

from __future__ import annotations


class SearchError(Exception):
    """Base of every error a search can raise on purpose."""


class IndexUnavailable(SearchError):
    """No usable index: none built yet, or the one on disk is damaged."""


class InvalidRequest(SearchError):
    """A request's parameter is out of bounds or names an unknown value."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class SearchTimeout(SearchError):
    """A search ran past its time budget and was stopped."""


class CodeNotFound(SearchError):
    """A code asked for by name is not in the index."""
