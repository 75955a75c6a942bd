"""The one place errors become HTTP responses, all in one JSON shape.

Every error body is ``{"error": {"status": 400, "type": "invalid_request",
"message": "...", "parameter": "limit"}}`` (``parameter`` only when one is to
blame). Unexpected exceptions are logged with their traceback and answered with a
500 in the same shape; they are never swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from search.errors import (
    CodeNotFound,
    IndexUnavailable,
    InvalidRequest,
    SearchError,
    SearchTimeout,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[SearchError], int, str]] = [
    (InvalidRequest, 400, "invalid_request"),
    (CodeNotFound, 404, "not_found"),
    (IndexUnavailable, 503, "index_unavailable"),
    (SearchTimeout, 504, "timeout"),
]


def error_body(
    status: int, kind: str, message: str, parameter: str | None = None
) -> dict[str, Any]:
    """The JSON body of every error response."""
    error: dict[str, Any] = {"status": status, "type": kind, "message": message}
    if parameter:
        error["parameter"] = parameter
    return {"error": error}


def _respond(
    status: int, kind: str, message: str, parameter: str | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(status, kind, message, parameter), status_code=status
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error type through :func:`error_body`."""

    @app.exception_handler(SearchError)
    async def search_error(request: Request, error: SearchError) -> JSONResponse:
        for kind, status, name in _STATUS:
            if isinstance(error, kind):
                parameter = getattr(error, "parameter", None)
                return _respond(status, name, str(error), parameter)
        return _respond(400, "search_error", str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = [
            str(part) for part in first.get("loc", ()) if part not in ("query", "path")
        ]
        parameter = ".".join(location) or None
        message = str(first.get("msg", "invalid request"))
        if parameter:
            message = f"{parameter}: {message}"
        return _respond(400, "invalid_request", message, parameter)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(
        request: Request, error: StarletteHTTPException
    ) -> JSONResponse:
        kind = "not_found" if error.status_code == 404 else "http_error"
        return _respond(error.status_code, kind, str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return _respond(
            500, "internal_error", "an unexpected error occurred; it was logged"
        )
