"""`medcodes download` against a local HTTP server serving zips of the real files."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from corpus import datadir
from corpus.download import (
    MANIFEST_NAME,
    DownloadError,
    DownloadSource,
    download,
    read_sources,
)
from service.cli import main

# Which real files go into which publisher-like zip (names as the publishers use).
ARCHIVES = {
    "hcpcs": (
        "october-2025-alpha-numeric-hcpcs-file.zip",
        ["hcpcs/HCPC2025_OCT_ANWEB.xlsx"],
    ),
    "icd10cm-index": (
        "icd10cm-table-index-2025.zip",
        [
            "icd10cm-index/icd-10-cm-eindex-2025.xml",
            "icd10cm-index/icd-10-cm-neoplasm-2025.xml",
            "icd10cm-index/icd10cm-index-2025.xsd",
        ],
    ),
    "pfs-rvu": ("rvu25d.zip", ["pfs-rvu/PPRRVU2025_Oct-level2.csv"]),
}


def sha256(path: Path) -> str:
    """A file's sha256, read independently of the module under test."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones too) with its digest."""
    return {
        str(p.relative_to(folder)): sha256(p) for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def site(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the publishers' sites: one zip per source."""
    root = tmp_path_factory.mktemp("site")
    for archive, members in ARCHIVES.values():
        # Members sit in a subfolder, as in some publishers' zips.
        with zipfile.ZipFile(root / archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for member in members:
                bundle.write(corpus_dir / member, f"release/{Path(member).name}")
            bundle.writestr("release/README.txt", "not wanted")
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving ``site``; yields its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    handler = partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/files"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def base_url(server: str) -> str:
    """The server's root (the sources' own folders are replaced by it)."""
    return server.rsplit("/", 1)[0]


def test_builtin_sources_name_the_official_files() -> None:
    sources = {s.name: s for s in read_sources()}
    assert set(sources) == set(ARCHIVES)
    for name, (archive, _) in ARCHIVES.items():
        assert sources[name].url.startswith("https://")
        assert sources[name].file_name == archive
        assert sources[name].members


def test_download_installs_checked_files(
    corpus_dir: Path, site: Path, base_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    reports = download(data, read_sources(), base_url=base_url)

    for report in reports:
        archive, members = ARCHIVES[report.source]
        assert report.archive_sha256 == sha256(site / archive)
        for fetched in report.files:
            assert sha256(data / fetched.path) == fetched.sha256
        # Every real member came through unchanged; README.txt was not wanted.
        names = {Path(f.path).name for f in report.files}
        assert names == {Path(m).name for m in members}
        for member in members:
            original = corpus_dir / member
            installed = next(data.rglob(Path(member).name))
            assert sha256(installed) == sha256(original)

    manifest = json.loads((data / MANIFEST_NAME).read_text())
    assert set(manifest["sources"]) == set(ARCHIVES)
    rvu = manifest["sources"]["pfs-rvu"]
    assert rvu["files"][0]["path"] == "pfs-rvu/PPRRVU2025_Oct-level2.csv"
    assert rvu["archive_sha256"] == sha256(site / "rvu25d.zip")
    assert rvu["origin"].startswith(base_url)

    # The loader recognises what was installed; nothing is left in staging.
    kinds = {source.kind for source in datadir.discover(data)}
    assert {
        datadir.HCPCS_WORKBOOK,
        datadir.RVU,
        datadir.ICD10CM_EXTERNAL_INDEX,
    } <= kinds
    assert not [p for p in data.iterdir() if p.name.startswith(".download-")]


def test_corrupted_download_leaves_data_as_it_was(
    site: Path, server: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "pfs-rvu").mkdir(parents=True)
    (data / "pfs-rvu" / "PPRRVU2025_Oct-level2.csv").write_text("the old file\n")
    (data / MANIFEST_NAME).write_text('{"sources": {}}\n')
    before = snapshot(data)

    # A copy of the RVU zip with bytes flipped inside the member's data: the
    # archive still opens, but its CRC check fails.
    good = (site / "rvu25d.zip").read_bytes()
    damaged = bytearray(good)
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(
        b ^ 0xFF for b in damaged[middle : middle + 64]
    )
    bad_site = tmp_path / "bad-site"
    bad_site.mkdir()
    (bad_site / "rvu25d.zip").write_bytes(bytes(damaged))
    (bad_site / "truncated.zip").write_bytes(good[: len(good) // 3])
    # The other two archives are fine: nothing of them may be installed either.
    for name in ("hcpcs", "icd10cm-index"):
        archive = ARCHIVES[name][0]
        (bad_site / archive).write_bytes((site / archive).read_bytes())

    sources = read_sources()
    with pytest.raises(
        DownloadError, match=r"pfs-rvu: .*rvu25d\.zip: (member|damaged)"
    ):
        download(data, sources, mirror=bad_site)
    assert snapshot(data) == before

    truncated = DownloadSource(
        "pfs-rvu", "https://x.test/truncated.zip", "pfs-rvu", ("PPRRVU*.csv",)
    )
    with pytest.raises(DownloadError, match=r"truncated\.zip: not a zip archive"):
        download(data, [truncated], mirror=bad_site)
    assert snapshot(data) == before


def test_missing_member_is_rejected(base_url: str, tmp_path: Path) -> None:
    wrong = DownloadSource(
        "pfs-rvu",
        "https://x.test/rvu25d.zip",
        "pfs-rvu",
        ("PPRRVU*.csv", "OPPSCAP*.csv"),
    )
    data = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"no member matches OPPSCAP\*\.csv"):
        download(data, [wrong], base_url=base_url)
    assert snapshot(data) == {}


def test_cli_download_and_mirror(
    site: Path, base_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(
        ["download", "--data", str(data), "--base-url", base_url, "--only", "pfs-rvu"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "pfs-rvu: rvu25d.zip" in out and "PPRRVU2025_Oct-level2.csv" in out
    assert [p.name for p in (data / "pfs-rvu").iterdir()] == [
        "PPRRVU2025_Oct-level2.csv"
    ]

    mirrored = tmp_path / "mirrored"
    assert main(["download", "--data", str(mirrored), "--from", str(site)]) == 0
    assert snapshot(mirrored).keys() >= {
        "hcpcs/HCPC2025_OCT_ANWEB.xlsx",
        "icd10cm-index/icd-10-cm-eindex-2025.xml",
        "pfs-rvu/PPRRVU2025_Oct-level2.csv",
        MANIFEST_NAME,
    }


def test_cli_errors_are_one_line(
    base_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    missing = main(
        ["download", "--data", str(data), "--base-url", base_url + "/nowhere"]
    )
    error = capsys.readouterr().err.strip()
    assert missing == 2
    assert error.count("\n") == 0
    assert error.startswith("medcodes: error: hcpcs: ") and "HTTP 404" in error

    unreachable = main(
        ["download", "--data", str(data), "--from", str(tmp_path / "no-mirror")]
    )
    assert unreachable == 2
    assert "mirror directory does not exist" in capsys.readouterr().err
    assert not data.exists() or snapshot(data) == {}


def test_bad_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.tsv"
    path.write_text(
        "name\turl\tfolder\tmembers\noops\thttps://x.test/a.zip\t../up\ta*\n"
    )
    with pytest.raises(DownloadError, match=r"sources\.tsv, line 2: folder '\.\./up'"):
        read_sources(path)
    path.write_text("only-a-name\thttps://x.test/a.zip\n")
    with pytest.raises(
        DownloadError, match=r"line 1: .*name, url and members required"
    ):
        read_sources(path)
