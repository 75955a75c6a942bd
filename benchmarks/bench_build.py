"""Full build time, by phase, and search latency on the result.

Reads the corpus, builds the index into a fresh temporary home, and prints the
seconds of each phase (reading, Whoosh writing, columns), then search latency
(p50/p99) over the dev queries with medcodes and with Whoosh's own searcher.

Usage: python benchmarks/bench_build.py [--data DIR] [--keep HOME]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_search import whoosh_search
from benchmarks.common import DEV_QUERIES, REPO, summary, timed_ms
from corpus.load import load_corpus
from indexer.build import build_index
from search.engine import Engine
from search.evaluate import read_queries
from search.results import SearchRequest


def main() -> None:
    """Build once, timing each phase, then time searches."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "corpus")
    options.add_argument("--keep", type=Path, help="build into this home and keep it")
    args = options.parse_args()
    logging.basicConfig(level=logging.INFO, format="  %(name)s: %(message)s")

    home = args.keep or Path(tempfile.mkdtemp(prefix="medcodes-bench-")) / "index"
    started = time.perf_counter()
    corpus = load_corpus(args.data)
    read = time.perf_counter() - started
    build = build_index(corpus.records, home)
    total = time.perf_counter() - started
    print(f"read corpus: {len(corpus.records)} records in {read:.1f} s")
    print(f"index build (write, columns, swap): {total - read:.1f} s")
    print(f"full build: {total:.1f} s")

    opened = time.perf_counter()
    engine = Engine(build)
    print(f"open index: {time.perf_counter() - opened:.1f} s")
    texts = [q.query for q in read_queries(DEV_QUERIES)]
    ours = []
    for text in texts:
        engine._cache.clear()
        ours.append(timed_ms(lambda t=text: engine.search(SearchRequest(query=t))))
    print(summary("search + facets (medcodes)", ours))
    theirs = [timed_ms(lambda t=t: whoosh_search(engine, t)) for t in texts]
    print(summary("search + facets (Whoosh searcher)", theirs))


if __name__ == "__main__":
    main()
