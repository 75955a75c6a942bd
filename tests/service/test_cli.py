"""The command line: output for people, one clear line and status 2 for mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main

pytestmark = pytest.mark.full


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("bone scan medical reason", "M1427"),
        ("m1427", "M1427"),
        ("doc med rsn bone scn", "M1427"),
        ("E119", "E11.9"),
        ("e11.9", "E11.9"),
    ],
)
def test_search_puts_the_code_first(
    full_home: Path, capsys: pytest.CaptureFixture[str], query: str, first: str
) -> None:
    assert main(["search", query, "--home", str(full_home)]) == 0
    lines = capsys.readouterr().out.splitlines()
    first_result = next(line for line in lines if line.strip().startswith("1."))
    assert first_result.split()[1] == first


def test_explain(full_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "doc med rsn", "--explain", "--home", str(full_home)]) == 0
    out = capsys.readouterr().out
    assert "via expansion 'medical'" in out


def test_missing_index_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "x", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("medcodes: error: no index in")


def test_damaged_index_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "builds" / "b1"
    (broken / "whoosh").mkdir(parents=True)
    (tmp_path / "current").symlink_to(Path("builds") / "b1")
    assert main(["search", "x", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("medcodes: error: the index at")


def test_bad_data_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["build", "--data", str(missing), "--home", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_eval_prints_side_by_side(
    full_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text(
        "kind\tquery\ttargets\nseed\tbone scn\tM1427\ncode\te119\tE11.9\n"
    )
    assert main(["eval", str(queries), "--home", str(full_home)]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "(base" in out
