"""Fetching the official code-set files into the data directory, verified.

Each source of ``data/download-sources.tsv`` names a publisher's zip, the folder
its members go to and the member names expected in it. Every archive is fetched
(or copied from a local mirror) into a hidden staging folder inside the data
directory, checked (zip integrity and CRCs, expected members, sizes, an
optional pinned sha256), and only when every source passed are the members
renamed into place and the manifest rewritten. A failed or corrupted download
therefore leaves the data directory as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from corpus.errors import CorpusError

logger = logging.getLogger(__name__)

SOURCES_FILE = "download-sources.tsv"
SOURCE_COLUMNS = ("name", "url", "folder", "members", "optional", "sha256")
MANIFEST_NAME = "download-manifest.json"
PATTERN_SEPARATOR = "|"
CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60.0


class DownloadError(CorpusError):
    """A source could not be fetched, or what was fetched failed a check."""


@dataclass(frozen=True)
class DownloadSource:
    """One publisher's archive: where it is, where it goes, what it must hold."""

    name: str
    url: str
    folder: str
    members: tuple[str, ...]
    optional: tuple[str, ...] = ()
    sha256: str = ""

    @property
    def file_name(self) -> str:
        """The archive's file name, the last part of its URL's path."""
        return Path(urllib.parse.urlparse(self.url).path).name


@dataclass(frozen=True)
class FetchedFile:
    """A member put into the data directory (``path`` relative to it)."""

    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class DownloadReport:
    """What one source gave: the archive as fetched and the files taken from it.

    ``origin`` is the URL fetched, or the mirror file copied.
    """

    source: str
    origin: str
    archive: str
    archive_bytes: int
    archive_sha256: str
    files: tuple[FetchedFile, ...]


def read_sources(path: Path | None = None) -> list[DownloadSource]:
    """The sources of a TSV file; without a path, the built-in list."""
    if path is None:
        where = SOURCES_FILE
        source = resources.files("corpus") / "data" / SOURCES_FILE
        text = source.read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DownloadError(f"{path}: cannot read the sources ({error})") from None

    sources = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)]
    for number, line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        (cells,) = csv.reader([line], "excel-tab")
        if tuple(cells) == SOURCE_COLUMNS:
            continue
        cells += [""] * (len(SOURCE_COLUMNS) - len(cells))
        name, url, folder, members, optional, sha256 = (c.strip() for c in cells[:6])
        if len(cells) > len(SOURCE_COLUMNS) or not (name and url and members):
            raise DownloadError(
                f"{where}, line {number}: {line!r}, expected "
                f"{' <tab> '.join(SOURCE_COLUMNS)} (name, url and members required)"
            )
        if Path(folder).is_absolute() or ".." in Path(folder).parts:
            raise DownloadError(
                f"{where}, line {number}: folder {folder!r} must stay inside the "
                "data directory (a relative path without '..')"
            )
        sources.append(
            DownloadSource(
                name, url, folder, _patterns(members), _patterns(optional), sha256
            )
        )
    if not sources:
        raise DownloadError(f"{where}: no sources listed")
    return sources


def download(
    data_dir: Path,
    sources: Sequence[DownloadSource],
    *,
    base_url: str | None = None,
    mirror: Path | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[DownloadReport]:
    """Fetch, check and install every source; all or nothing.

    ``base_url`` replaces each URL's folder (the file name is kept); ``mirror``
    copies ``<mirror>/<file name>`` instead of fetching. The manifest
    (``download-manifest.json`` in ``data_dir``) records each archive's and
    each file's size and sha256.
    """
    if mirror is not None and not mirror.is_dir():
        raise DownloadError(f"{mirror}: mirror directory does not exist")
    data_dir.mkdir(parents=True, exist_ok=True)
    # Staging inside the data directory keeps the final renames on one file
    # system; the leading dot hides it from the data directory's discovery.
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=data_dir))
    try:
        staged = []
        for source in sources:
            folder = staging / source.name
            folder.mkdir()
            archive = folder / source.file_name
            where = _fetch(source, archive, base_url, mirror, timeout)
            report = _verify_and_extract(source, archive, where, folder / "files")
            staged.append((report, folder / "files"))
        reports = [_install(report, files, data_dir) for report, files in staged]
        _write_manifest(data_dir, reports)
        return reports
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _patterns(text: str) -> tuple[str, ...]:
    """``a|b`` -> ``("a", "b")``, empty parts dropped."""
    return tuple(p.strip() for p in text.split(PATTERN_SEPARATOR) if p.strip())


def _fetch(
    source: DownloadSource,
    target: Path,
    base_url: str | None,
    mirror: Path | None,
    timeout: float,
) -> str:
    """Put the archive at ``target``; return where it came from."""
    if not source.file_name:
        raise DownloadError(f"{source.name}: URL {source.url!r} names no file")
    if mirror is not None:
        original = mirror / source.file_name
        if not original.is_file():
            raise DownloadError(
                f"{source.name}: {original} not found; the mirror must hold the "
                f"publisher's file under its own name ({source.file_name})"
            )
        shutil.copyfile(original, target)
        return str(original)

    url = source.url
    if base_url:
        url = f"{base_url.rstrip('/')}/{urllib.parse.quote(source.file_name)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            received = _copy(response, target)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"{source.name}: {url} answered HTTP {error.code} ({error.reason})"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"{source.name}: cannot fetch {url} ({reason})") from None
    if expected is not None and expected.isdigit() and int(expected) != received:
        raise DownloadError(
            f"{source.name}: {url} sent {received} bytes, expected {expected} "
            "(Content-Length): the download was cut short"
        )
    return url


def _copy(response: BinaryIO, target: Path) -> int:
    """Stream a response into a file; the number of bytes written."""
    written = 0
    with target.open("wb") as handle:
        while chunk := response.read(CHUNK_BYTES):
            handle.write(chunk)
            written += len(chunk)
    return written


def _verify_and_extract(
    source: DownloadSource, archive: Path, where: str, out: Path
) -> DownloadReport:
    """Check the archive and extract its wanted members into ``out``."""
    digest, size = _sha256(archive)
    label = f"{source.name}: {where}"
    if source.sha256 and digest != source.sha256.lower():
        raise DownloadError(
            f"{label}: sha256 is {digest}, expected {source.sha256} (pinned in "
            "the sources)"
        )
    if not zipfile.is_zipfile(archive):
        raise DownloadError(f"{label}: not a zip archive ({size} bytes)")
    try:
        with zipfile.ZipFile(archive) as bundle:
            broken = bundle.testzip()
            if broken is not None:
                raise DownloadError(f"{label}: member {broken} fails its CRC check")
            members = [i for i in bundle.infolist() if not i.is_dir()]
            wanted = _wanted(source, label, members)
            out.mkdir()
            files = []
            for info in wanted:
                files.append(_extract(bundle, info, out, source.folder, label))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise DownloadError(f"{label}: damaged zip archive ({error})") from None
    return DownloadReport(
        source.name, where, source.file_name, size, digest, tuple(files)
    )


def _wanted(
    source: DownloadSource, label: str, members: list[zipfile.ZipInfo]
) -> list[zipfile.ZipInfo]:
    """The members the source asks for; every required pattern must match."""
    names = [Path(info.filename).name for info in members]
    missing = [
        pattern
        for pattern in source.members
        if not any(_matches(name, pattern) for name in names)
    ]
    if missing:
        raise DownloadError(
            f"{label}: no member matches {', '.join(missing)}; the archive holds "
            f"{', '.join(sorted(names)[:8]) or 'nothing'}"
        )
    patterns = (*source.members, *source.optional)
    chosen: dict[str, zipfile.ZipInfo] = {}
    for info, name in zip(members, names, strict=True):
        if any(_matches(name, pattern) for pattern in patterns):
            if name in chosen:
                raise DownloadError(
                    f"{label}: two members are named {name}; expected one"
                )
            chosen[name] = info
    return list(chosen.values())


def _matches(name: str, pattern: str) -> bool:
    """Case-insensitive file-name match."""
    return fnmatch.fnmatch(name.casefold(), pattern.casefold())


def _extract(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, out: Path, folder: str, label: str
) -> FetchedFile:
    """Extract one member (flattened to its file name) and check its size."""
    name = Path(info.filename).name
    target = out / name
    with bundle.open(info) as member, target.open("wb") as handle:
        shutil.copyfileobj(member, handle, CHUNK_BYTES)
    digest, size = _sha256(target)
    if size == 0 or size != info.file_size:
        raise DownloadError(
            f"{label}: member {info.filename} gave {size} bytes, expected "
            f"{info.file_size} (and more than none)"
        )
    return FetchedFile(str(Path(folder) / name), size, digest)


def _install(report: DownloadReport, files: Path, data_dir: Path) -> DownloadReport:
    """Rename a source's checked files into the data directory."""
    for fetched in report.files:
        target = data_dir / fetched.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(files / target.name, target)
    logger.info(
        "downloaded %s: %d files (%d bytes archive) into %s",
        report.source,
        len(report.files),
        report.archive_bytes,
        data_dir,
    )
    return report


def _write_manifest(data_dir: Path, reports: list[DownloadReport]) -> None:
    """Record what was fetched; entries of other sources are kept."""
    path = data_dir / MANIFEST_NAME
    manifest: dict[str, object] = {"sources": {}}
    if path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("%s is unreadable: starting a new manifest", path)
    entries = manifest.setdefault("sources", {})
    if not isinstance(entries, dict):
        entries = manifest["sources"] = {}
    fetched = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for report in reports:
        entries[report.source] = {**asdict(report), "fetched": fetched}
    temporary = path.with_name(f".{MANIFEST_NAME}.partial")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _sha256(path: Path) -> tuple[str, int]:
    """A file's sha256 (hex) and size."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
