"""Facet-count latency for broad queries over the full corpus, beside Whoosh's.

Broad queries are the hard case for facets: the empty query (browse all), one
common word, and those with a selection in one facet (disjunctive counting then
needs a separate scope per facet). medcodes counts from in-memory columns; the
baseline is Whoosh's grouped counting (``groupedby`` with ``FieldFacet``) over
the same index, measured in the same run.

Usage: python benchmarks/bench_facets.py [--home INDEX_HOME] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from whoosh import query as whoosh_query

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import summary, timed_ms, whoosh_grouped
from indexer.analysis import stem
from indexer.build import current_build
from search.engine import Engine
from search.results import SearchRequest
from service.paths import default_home

CASES: list[tuple[str, str, dict[str, tuple[str, ...]]]] = [
    ("empty query", "", {}),
    ("one common word: 'left'", "left", {}),
    ("one common word: 'fracture'", "fracture", {}),
    (
        "'fracture' + a specialty selected",
        "fracture",
        {"specialty": ("emergency-medicine",)},
    ),
    ("empty query + a system selected", "", {"system": ("hcpcs",)}),
]


def whoosh_counts(engine: Engine, text: str) -> None:
    """Whoosh's grouped facet counts for the same broad query."""
    query = (
        whoosh_query.Or(
            [whoosh_query.Term(f, stem(text)) for f in ("title", "short", "synonyms")]
        )
        if text
        else whoosh_query.Every()
    )
    whoosh_grouped(engine, query, limit=1)


def main() -> None:
    """Time each case with medcodes and with Whoosh, and print the figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--home", type=Path, default=default_home())
    options.add_argument("--repeat", type=int, default=50, help="runs per case")
    args = options.parse_args()
    build = current_build(args.home)
    if build is None:
        sys.exit(f"no index in {args.home}: run `medcodes build` first")
    engine = Engine(build)
    print(f"index: {build.name}, {engine.size} documents, {args.repeat} runs a case")

    for label, text, selections in CASES:
        request = SearchRequest(
            query=text,
            systems=selections.get("system", ()),
            specialties=selections.get("specialty", ()),
        )
        ranked = engine.rank(text)
        masks = {
            name: engine.facets.mask(name, values)
            for name, values in request.selections().items()
        }
        counts_only = [
            timed_ms(lambda r=ranked, m=masks: engine.facets.count(r.candidates, m))
            for _ in range(args.repeat)
        ]
        whole = []
        for _ in range(args.repeat):
            engine._cache.clear()  # time the work, not the result cache
            whole.append(timed_ms(lambda r=request: engine.search(r)))
        total = engine.search(request).total
        print(f"-- {label}: {total} results")
        print(summary("   facet counts only (medcodes)", counts_only))
        print(summary("   whole search with facets (medcodes)", whole))
        if not selections:
            runs = max(3, args.repeat // 10)
            baseline = [
                timed_ms(lambda t=text: whoosh_counts(engine, t)) for _ in range(runs)
            ]
            print(summary("   grouped counts (Whoosh baseline)", baseline))


if __name__ == "__main__":
    main()
