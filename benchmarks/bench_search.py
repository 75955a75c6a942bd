"""Latency of suggest and search on the full corpus, beside baselines, in one run.

Prints p50/p99 for:
- suggest in-process over every prefix (1 to 30 characters) of the dev queries,
  and SQLite FTS5 prefix queries over the same documents for the same inputs;
- search with facets in-process over the dev queries, and Whoosh's own searcher
  (AND of the words over the same fields, grouped facet counts) for the same;
- both over HTTP on loopback, with /api/health in the same run;
- the service's peak memory; and the autocomplete evaluation of medcodes and of
  FTS5 on the dev set (share of queries reaching a target, keystrokes saved).

Usage: python benchmarks/bench_search.py [--home INDEX_HOME] [--queries TSV]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path

import httpx
from whoosh import qparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEV_QUERIES,
    peak_memory_mb,
    running_service,
    summary,
    timed_ms,
    whoosh_grouped,
)
from indexer.build import current_build
from search.engine import Engine
from search.evaluate import evaluate_typing, read_queries
from search.results import SearchRequest
from search.suggest import Suggester
from service.paths import default_home


def suggest_inputs(queries: list[str]) -> list[str]:
    """Every prefix of 1 to 30 characters of every query, once each."""
    seen: dict[str, None] = {}
    for query in queries:
        for length in range(1, min(len(query), 30) + 1):
            seen.setdefault(query[:length], None)
    return list(seen)


def fts5_index(engine: Engine) -> sqlite3.Connection:
    """SQLite FTS5 (porter, bm25) over the same documents and text fields."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(code, title, short, synonyms, "
        "tokenize='porter unicode61')"
    )
    rows = []
    for docnum in range(engine.size):
        record = engine.record_data(docnum)
        synonyms = record.get("synonyms", [])
        rows.append(
            (
                record["code"],
                record["title"],
                record["short"],
                " | ".join(synonyms) if isinstance(synonyms, list) else "",
            )
        )
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    connection.commit()
    return connection


def fts5_suggest(connection: sqlite3.Connection, text: str) -> list[str]:
    """Prefix search: every word as typed, the last one a prefix."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    if not words:
        return []
    terms = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
    cursor = connection.execute(
        "SELECT code FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10",
        (" ".join(terms),),
    )
    return [row[0] for row in cursor]


def whoosh_search(engine: Engine, text: str) -> None:
    """Whoosh's own searcher: the same words, facet counts grouped by Whoosh."""
    schema = engine.whoosh.schema
    parser = qparser.MultifieldParser(["title", "short", "synonyms"], schema)
    parser.remove_plugin_class(qparser.WildcardPlugin)
    query = parser.parse(re.sub(r"[^\w\s]", " ", text))
    whoosh_grouped(engine, query, limit=10)


def main() -> None:
    """Run every measurement and print the figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--home", type=Path, default=default_home())
    options.add_argument("--queries", type=Path, default=DEV_QUERIES)
    args = options.parse_args()
    build = current_build(args.home)
    if build is None:
        sys.exit(f"no index in {args.home}: run `medcodes build` first")
    queries = read_queries(args.queries)
    texts = [q.query for q in queries]
    inputs = suggest_inputs(texts)

    engine = Engine(build)
    print(f"index: {build.name}, {engine.size} documents; {len(inputs)} suggest inputs")

    suggester = Suggester(engine)
    in_suggest = [timed_ms(lambda t=t: suggester.suggest(t, 8)) for t in inputs]
    print(summary("suggest, in-process (medcodes)", in_suggest))

    connection = fts5_index(engine)
    fts_suggest = [timed_ms(lambda t=t: fts5_suggest(connection, t)) for t in inputs]
    print(summary("suggest, in-process (SQLite FTS5 prefix)", fts_suggest))

    in_search = []
    for text in texts:
        engine._cache.clear()  # measure the work, not the result cache
        in_search.append(timed_ms(lambda t=text: engine.search(SearchRequest(query=t))))
    print(summary("search + facets, in-process (medcodes)", in_search))
    whoosh_times = [timed_ms(lambda t=t: whoosh_search(engine, t)) for t in texts]
    print(summary("search + facets, in-process (Whoosh searcher)", whoosh_times))

    with running_service(args.home) as (base, pid), httpx.Client(base_url=base) as http:
        http_suggest, http_health, http_search = [], [], []
        for text in inputs:
            http_suggest.append(
                timed_ms(lambda t=text: http.get("/api/suggest", params={"q": t}))
            )
            http_health.append(timed_ms(lambda: http.get("/api/health")))
        for text in texts:
            http_search.append(
                timed_ms(lambda t=text: http.get("/api/search", params={"q": t}))
            )
        memory = peak_memory_mb(pid)
    print(summary("suggest over HTTP", http_suggest))
    print(summary("/api/health over HTTP (same run)", http_health))
    print(summary("search + facets over HTTP", http_search))
    print(f"service peak memory (VmHWM): {memory:.0f} MB")

    typist = Suggester(engine)
    typing = {
        "medcodes": evaluate_typing(
            queries, lambda t: [c.code for c in typist.suggest(t, 10).codes]
        ),
        "SQLite FTS5": evaluate_typing(queries, lambda t: fts5_suggest(connection, t)),
    }
    for name, scores in typing.items():
        overall = scores["overall"]
        print(
            f"autocomplete on {args.queries.name} ({name}): target in top 10 for "
            f"{overall.reached:.3f} of queries, "
            f"keystrokes saved {overall.keystrokes_saved:.3f} "
            f"(mean per query {overall.mean_saved:.3f})"
        )


if __name__ == "__main__":
    main()
