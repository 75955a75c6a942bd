"""The ``medcodes`` command line: build, serve, search, suggest, show, eval.

Each subcommand parses its options and calls the library. A user mistake or a
missing file prints one line ``medcodes: error: ...`` and exits with status 2;
an unexpected failure keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from corpus.datadir import resolve_data_dir
from corpus.errors import CorpusError
from indexer.build import BuildError, build_index, build_lock, current_build
from search.errors import SearchError
from service.paths import default_home

log = logging.getLogger("medcodes")

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    SearchError,
    BuildError,
    CorpusError,
    FileNotFoundError,
    PermissionError,
    NotADirectoryError,
    IsADirectoryError,
)


class UsageError(Exception):
    """A mistake in how the command was called."""


def _progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(
        f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    )
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _home(args: argparse.Namespace) -> Path:
    return Path(args.home) if args.home else default_home()


def _data_dir(args: argparse.Namespace) -> Path | None:
    data = resolve_data_dir(args.data)
    if data is not None and not data.is_dir():
        raise UsageError(
            f"data directory {str(data)!r} does not exist or is not a folder"
        )
    return data


def command_build(args: argparse.Namespace) -> int:
    """Read the corpus and build a new index, switched to when complete."""
    from corpus.load import load_corpus

    data = _data_dir(args)
    started = time.perf_counter()
    # The lock first, so that a second build stops at once, not after reading.
    with build_lock(_home(args), wait=args.wait):
        corpus = load_corpus(data, progress=lambda name: log.info("%s", name))
        sources = [
            {
                "name": s.name,
                "path": str(s.path) if s.path else None,
                "records": s.records,
            }
            for s in corpus.sources
        ]
        build = build_index(
            corpus.records,
            _home(args),
            sources=sources,
            progress=_progress_bar,
            locked=True,
        )
    print(
        f"built {build.name}: {len(corpus.records)} records in "
        f"{time.perf_counter() - started:.1f} s (home {_home(args)})"
    )
    return 0


def command_serve(args: argparse.Namespace) -> int:
    """Serve the API and the page; build an index first if there is none."""
    import uvicorn

    home = _home(args)
    if current_build(home) is None or args.rebuild:
        log.info("no index in %s yet: building one", home)
        command_build(args)
    os.environ["MEDCODES_HOME"] = str(home)
    uvicorn.run(
        "service.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from search.index import IndexHome

    return IndexHome(_home(args)).engine()


def command_search(args: argparse.Namespace) -> int:
    """Print ranked results for a query."""
    from search.engine import validate_as_of
    from search.results import SearchRequest
    from service.schemas import search_json

    request = SearchRequest(
        query=args.query,
        systems=tuple(args.system),
        categories=tuple(args.category),
        specialties=tuple(args.specialty),
        limit=args.limit,
        offset=args.offset,
        explain=args.explain,
        as_of=validate_as_of(args.as_of),
        include_terminated=args.include_terminated,
    )
    result = _engine(args).search(request)
    if args.json:
        print(json.dumps(search_json(result), indent=2))
        return 0
    if result.did_you_mean:
        print(f"did you mean: {result.did_you_mean}")
    print(f"{result.total} results ({result.took_ms} ms)")
    for rank, hit in enumerate(result.hits, start=request.offset + 1):
        print(f"{rank:3d}. {hit.code:<10} {hit.system:<8} {hit.title}")
        if args.explain:
            for reason in hit.explain:
                via = (
                    f" via {reason.kind} '{reason.matched}'"
                    if reason.kind != "word"
                    else ""
                )
                print(
                    f"       '{reason.typed}'{via} in {', '.join(reason.fields) or '-'}"
                )
    return 0


def command_suggest(args: argparse.Namespace) -> int:
    """Print completions and codes for a partial query."""
    from search.suggest import Suggester

    result = Suggester(_engine(args)).suggest(args.text, args.limit)
    for completion in result.completions:
        print(f"  {completion}")
    for code in result.codes:
        print(f"{code.code:<10} {code.title}")
    return 0


def command_show(args: argparse.Namespace) -> int:
    """Print every field of one code."""
    from service.schemas import detail_json

    print(
        json.dumps(detail_json(_engine(args).detail(args.code, args.system)), indent=2)
    )
    return 0


def command_facets(args: argparse.Namespace) -> int:
    """Print every facet value with its count."""
    for name, values in _engine(args).all_facets().items():
        print(f"{name}:")
        for value in values[: args.limit]:
            print(f"  {value.count:7d}  {value.value}  {value.label}")
    return 0


def command_eval(args: argparse.Namespace) -> int:
    """Measure relevance (or autocomplete) against a queries file, with a baseline."""
    from search.engine import Engine
    from search.evaluate import evaluate, evaluate_typing, read_queries
    from search.results import SearchRequest
    from search.suggest import Suggester

    queries = read_queries(Path(args.queries))
    build = current_build(_home(args))
    if build is None:
        raise UsageError(f"no index in {_home(args)}: run `medcodes build` first")
    full = Engine(build)
    baseline = Engine(build, baseline=True)
    if args.suggest:
        rows = {}
        for name, engine in (("medcodes", full), ("baseline", baseline)):
            rows[name] = evaluate_typing(queries, _suggested_codes(Suggester(engine)))
        print(
            f"{'kind':<10} {'n':>3}  {'reached@10':>22}  {'keystrokes saved':>22}"
            f"  {'mean saved per query':>22}"
        )
        for kind in rows["medcodes"]:
            m, b = rows["medcodes"][kind], rows["baseline"][kind]
            print(
                f"{kind:<10} {m.queries:>3}  {m.reached:>10.3f} (base {b.reached:.3f})"
                f"  {m.keystrokes_saved:>10.3f} (base {b.keystrokes_saved:.3f})"
                f"  {m.mean_saved:>10.3f} (base {b.mean_saved:.3f})"
            )
        return 0
    results = {}
    for name, engine in (("medcodes", full), ("baseline", baseline)):
        results[name] = evaluate(queries, _searched_codes(engine))
    print(
        f"{'kind':<10} {'n':>3}  {'success@1':>18}  {'success@10':>18}  {'MRR@10':>18}"
    )
    for kind in results["medcodes"]:
        r, q = results["medcodes"][kind], results["baseline"][kind]
        print(
            f"{kind:<10} {r.queries:>3}"
            f"  {r.success_at_1:>6.3f} (base {q.success_at_1:.3f})"
            f"  {r.success_at_10:>6.3f} (base {q.success_at_10:.3f})"
            f"  {r.mrr:>6.3f} (base {q.mrr:.3f})"
        )
    if args.misses:
        for query in queries:
            codes = [h.code for h in full.search(SearchRequest(query=query.query)).hits]
            if not codes or not query.accepts(codes[0]):
                print(f"miss [{query.kind}] {query.query!r}: top {codes[:3]}")
    return 0


def _suggested_codes(suggester: Any) -> Callable[[str], list[str]]:
    def codes(text: str) -> list[str]:
        return [c.code for c in suggester.suggest(text, 10).codes]

    return codes


def _searched_codes(engine: Any) -> Callable[[str], list[str]]:
    from search.results import SearchRequest

    def codes(query: str) -> list[str]:
        return [
            h.code for h in engine.search(SearchRequest(query=query, limit=10)).hits
        ]

    return codes


def command_lexicon(args: argparse.Namespace) -> int:
    """Regenerate the mined abbreviation lexicon from the short/long descriptors."""
    from indexer import lexicon

    data = _data_dir(args)
    argv = ["--out", args.out]
    if data is not None:
        argv += ["--data", str(data)]
    return int(lexicon.main(argv) or 0)


def command_download(args: argparse.Namespace) -> int:
    """Fetch the official files into the data directory, checked (or copy a mirror)."""
    from corpus.datadir import DEFAULT_DATA_DIR
    from corpus.download import download, read_sources

    data = resolve_data_dir(args.data) or DEFAULT_DATA_DIR.expanduser()
    sources = read_sources(Path(args.sources) if args.sources else None)
    if args.only:
        unknown = sorted(set(args.only) - {s.name for s in sources})
        if unknown:
            raise UsageError(f"no source named {', '.join(unknown)} in the sources")
        sources = [s for s in sources if s.name in args.only]
    mirror = Path(args.mirror) if args.mirror else None
    for report in download(data, sources, base_url=args.base_url, mirror=mirror):
        names = ", ".join(Path(f.path).name for f in report.files)
        print(
            f"{report.source}: {report.archive} ({report.archive_bytes} bytes, "
            f"sha256 {report.archive_sha256[:16]}...) -> {names}"
        )
    print(f"data directory: {data}")
    return 0


def command_specialty(args: argparse.Namespace) -> int:
    """Say which rules gave a code its specialties."""
    from corpus.records import CodeRecord
    from corpus.specialties import SpecialtyRules
    from indexer.schema import record_from_json

    engine = _engine(args)
    data = engine.record_data(engine.find(args.code, args.system))
    record: CodeRecord = record_from_json(data)
    rules = SpecialtyRules.load(None)
    for assignment in rules.assign(record):
        print(f"{assignment.label:<40} rule {assignment.rule_id}: {assignment.reason}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    main = argparse.ArgumentParser(prog="medcodes", description=__doc__.splitlines()[0])
    main.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = main.add_subparsers(dest="command", required=True)

    def with_home(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--home",
            help="index home (default: $MEDCODES_HOME, else "
            "~/.local/share/medcodes/index)",
        )
        return p

    def with_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--data",
            help="data directory of official files (default: $MEDCODES_DATA, else "
            "~/.local/share/medcodes/data if present; without one, ICD-10-CM only)",
        )
        return p

    p = with_data(with_home(sub.add_parser("build", help="build the index")))
    p.add_argument("--wait", action="store_true", help="wait for a running build")
    p.set_defaults(run=command_build)

    p = with_data(with_home(sub.add_parser("serve", help="serve the API and page")))
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1)"
    )
    p.add_argument("--rebuild", action="store_true", help="build a new index first")
    p.add_argument("--wait", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(run=command_serve)

    p = with_home(sub.add_parser("search", help="search codes"))
    p.add_argument("query", help="what you would type in the search box")
    p.add_argument("--system", action="append", default=[], help="filter by system id")
    p.add_argument(
        "--category", action="append", default=[], help="filter by category id"
    )
    p.add_argument(
        "--specialty", action="append", default=[], help="filter by specialty id"
    )
    p.add_argument("--limit", type=int, default=10, help="results per page (1-100)")
    p.add_argument("--offset", type=int, default=0, help="results to skip (0-1000)")
    p.add_argument("--explain", action="store_true", help="say why each result matched")
    p.add_argument("--as-of", help="validity date YYYY-MM-DD (default today)")
    p.add_argument(
        "--include-terminated", action="store_true", help="also list terminated codes"
    )
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(run=command_search)

    p = with_home(sub.add_parser("suggest", help="autocomplete a partial query"))
    p.add_argument("text", help="what is typed so far")
    p.add_argument("--limit", type=int, default=8, help="codes to list (1-20)")
    p.set_defaults(run=command_suggest)

    p = with_home(sub.add_parser("show", help="every field of one code"))
    p.add_argument("code", help="the code, in any format (E119, e11.9)")
    p.add_argument("--system", help="the system, if the code is ambiguous")
    p.set_defaults(run=command_show)

    p = with_home(sub.add_parser("facets", help="facet values with counts"))
    p.add_argument("--limit", type=int, default=30, help="values per facet to print")
    p.set_defaults(run=command_facets)

    p = with_home(
        sub.add_parser("specialty", help="which rules gave a code its specialties")
    )
    p.add_argument("code", help="the code")
    p.add_argument("--system", help="the system, if the code is ambiguous")
    p.set_defaults(run=command_specialty)

    p = with_home(
        sub.add_parser("eval", help="measure relevance against a queries file")
    )
    p.add_argument("queries", help="TSV file: kind, query, targets")
    p.add_argument(
        "--suggest", action="store_true", help="measure autocomplete instead"
    )
    p.add_argument(
        "--misses", action="store_true", help="list queries not answered first"
    )
    p.set_defaults(run=command_eval)

    p = with_data(sub.add_parser("download", help="fetch the official files, checked"))
    p.add_argument("--from", dest="mirror", help="copy from a local mirror directory")
    p.add_argument("--base-url", help="fetch each file from here instead of its URL")
    p.add_argument("--sources", help="TSV of sources (default: the built-in list)")
    p.add_argument("--only", action="append", default=[], help="fetch this source only")
    p.set_defaults(run=command_download)

    p = with_data(sub.add_parser("lexicon", help="regenerate the mined abbreviations"))
    p.add_argument("--out", required=True, help="where to write the TSV")
    p.set_defaults(run=command_lexicon)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``medcodes`` console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except (UsageError, *EXPECTED_ERRORS) as error:  # type: ignore[misc]
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"medcodes: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medcodes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
