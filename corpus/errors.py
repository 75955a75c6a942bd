"""The exception raised for unreadable or malformed corpus input."""

from __future__ import annotations


class CorpusError(Exception):
    """A corpus file is missing, unreadable or not in the expected format.

    Messages name the file and, where there is one, the line or row, show the
    offending value and say what was expected.
    """
