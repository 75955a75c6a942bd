"""Checks shared by the reliability tests: the one error shape, safe highlights."""

from __future__ import annotations

import re
from typing import Any

ERROR_KINDS = frozenset(
    {"invalid_request", "not_found", "index_unavailable", "timeout", "http_error"}
)
_MARK = re.compile(r"</?mark>")


def assert_error_shape(body: Any, status: int) -> dict[str, Any]:
    """``body`` is ``{"error": {"status", "type", "message", ...}}`` for ``status``."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert error["status"] == status, error
    assert error["type"] in ERROR_KINDS, error
    assert isinstance(error["message"], str) and error["message"], error
    assert set(error) <= {"status", "type", "message", "parameter"}, error
    return dict(error)


def assert_safe_response(status: int, body: Any) -> None:
    """A 200 with safe highlights, or a 4xx/503/504 in the one error shape."""
    if status == 200:
        for row in body.get("results", ()):
            for text in row["highlight"].values():
                assert "<" not in _MARK.sub("", text), text
        return
    assert 400 <= status < 500 or status in (503, 504), (status, body)
    assert_error_shape(body, status)
