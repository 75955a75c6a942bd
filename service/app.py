"""The HTTP API and the search page, over whichever index build is current.

Routes parse and bound their parameters, call the search package, and turn its
records into JSON. Every error, ours or the framework's, leaves through
:mod:`service.errors` in one JSON shape.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from search.engine import validate_as_of
from search.errors import InvalidRequest, SearchError
from search.index import IndexHome
from search.results import SearchRequest
from search.suggest import Suggester
from service.errors import install_error_handlers
from service.paths import default_home
from service.schemas import (
    detail_json,
    facets_json,
    search_json,
    suggest_json,
)

log = logging.getLogger(__name__)

MAX_QUERY = 256
MAX_VALUE = 120
MAX_FILTERS = 20

Text = Annotated[str, Query(max_length=MAX_QUERY, description="What the user typed")]
Filter = Annotated[
    list[str],
    Query(
        max_length=MAX_FILTERS, description="Facet value ids; repeat to select several"
    ),
]


def _check_values(name: str, values: list[str]) -> tuple[str, ...]:
    for value in values:
        if len(value) > MAX_VALUE:
            raise InvalidRequest(
                name, f"{name} values are at most {MAX_VALUE} characters"
            )
    return tuple(dict.fromkeys(values))


def create_app(home: Path | None = None) -> FastAPI:
    """The FastAPI application serving the index in ``home``."""
    index_home = IndexHome(home or default_home())
    suggesters: dict[int, Suggester] = {}

    def suggester() -> Suggester:
        engine = index_home.engine()
        found = suggesters.get(id(engine))
        if found is None or found.engine is not engine:
            suggesters.clear()
            found = suggesters[id(engine)] = Suggester(engine)
        return found

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Open the index and its keystroke tables before the first request, so
        # that nobody's first keystroke waits for them. No index yet is fine:
        # requests then answer 503 until one is built.
        try:
            suggester()
        except SearchError as error:
            log.warning("not serving an index yet: %s", error)
        yield

    app = FastAPI(
        title="medcodes",
        version="0.1.0",
        description="Search ICD-10-CM, HCPCS Level II and licensed code sets.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    static = resources.files("service") / "static"

    @app.get("/api/search", summary="Ranked, faceted search")
    def search(
        q: Text = "",
        system: Filter = [],  # noqa: B006 - FastAPI copies defaults per request
        category: Filter = [],  # noqa: B006
        specialty: Filter = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        offset: Annotated[int, Query(ge=0, le=1000)] = 0,
        explain: bool = False,
        as_of: Annotated[
            str | None,
            Query(
                pattern=r"^\d{4}-\d{2}-\d{2}$",
                description="Validity date, YYYY-MM-DD (default: today)",
            ),
        ] = None,
        include_terminated: bool = False,
    ) -> dict[str, Any]:
        request = SearchRequest(
            query=q,
            systems=_check_values("system", system),
            categories=_check_values("category", category),
            specialties=_check_values("specialty", specialty),
            limit=limit,
            offset=offset,
            explain=explain,
            as_of=validate_as_of(as_of),
            include_terminated=include_terminated,
        )
        return search_json(index_home.engine().search(request))

    # Async on purpose: a suggestion takes a millisecond or two of CPU, less than
    # the hop to a worker thread would add to every keystroke.
    @app.get("/api/suggest", summary="Completions and codes while typing")
    async def suggest(
        q: Text = "", limit: Annotated[int, Query(ge=1, le=20)] = 8
    ) -> dict[str, Any]:
        return suggest_json(suggester().suggest(q, limit))

    @app.get("/api/facets", summary="Every facet value with its count")
    def facets() -> dict[str, Any]:
        return facets_json(index_home.engine().all_facets())

    @app.get("/api/codes/{code}", summary="Every field of one code")
    def code_detail(
        code: Annotated[str, PathParam(max_length=32)],
        system: Annotated[str | None, Query(max_length=32)] = None,
    ) -> dict[str, Any]:
        return detail_json(index_home.engine().detail(code, system))

    @app.get("/api/health", summary="Liveness and the index being served")
    def health() -> dict[str, Any]:
        engine = index_home.engine()
        return {"status": "ok", "index": engine.build.name, "documents": engine.size}

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        allowed = {p.name for p in static.iterdir() if p.is_file()}
        if name not in allowed:
            raise HTTPException(404, f"no static file {name!r}")
        return FileResponse(str(static / name))

    return app


def create_app_from_env() -> FastAPI:
    """App factory for uvicorn workers: the index home comes from MEDCODES_HOME."""
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    home = os.environ.get("MEDCODES_HOME")
    return create_app(Path(home) if home else None)


__all__ = ["JSONResponse", "create_app", "create_app_from_env"]
