"""User code sets in JSON Lines and CSV (all rows invented)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from corpus.custom import category_id, read_custom
from corpus.errors import CorpusError
from corpus.records import Category


def write_jsonl(path: Path, rows: list[object]) -> Path:
    """Rows as JSON Lines."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_jsonl_fields(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "set.jsonl",
        [
            {
                "code": "99990",
                "system": "cpt",
                "short": "Invented visit",
                "long": "Invented office visit for testing",
                "synonyms": ["made-up visit"],
                "plain_language": ["pretend checkup"],
                "context": ["for tests only"],
                "category": "Evaluation & Management",
                "specialties": ["family-medicine"],
                "effective": "2025-01-01",
                "terminated": "20251231",
            },
            {"code": "L001", "system": "local", "long": "Local code"},
        ],
    )
    first, second = read_custom(path)
    assert first.key == "cpt:99990"
    assert first.title == "Invented office visit for testing"
    assert first.short == "Invented visit"
    assert first.synonyms == ("made-up visit", "pretend checkup")
    assert first.context == ("for tests only",)
    assert first.categories == (
        Category("custom:cpt:evaluation-management", "Evaluation & Management"),
    )
    assert first.specialties == ("family-medicine",)
    assert first.effective == dt.date(2025, 1, 1)
    assert first.terminated == dt.date(2025, 12, 31)
    assert second.short == second.title == "Local code"
    assert second.billable


def test_csv_lists_split_at_bars(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "code,system,short,long,synonyms,plain_language,category,billable\n"
        "99990,cpt,Inv visit,Invented visit,a visit|another visit,checkup,Visits,no\n"
        "\n",
        encoding="utf-8",
    )
    (record,) = read_custom(path)
    assert record.synonyms == ("a visit", "another visit", "checkup")
    assert record.categories[0].id == "custom:cpt:visits"
    assert not record.billable


def test_category_id() -> None:
    assert (
        category_id("cpt", "  Surgery / Integumentary ")
        == "custom:cpt:surgery-integumentary"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"line 2: not valid JSON"),
        ("[1, 2]", r"line 2: found a JSON list, expected an object"),
        ('{"code": "X1", "long": "x"}', r"line 2: system is ''"),
        ('{"system": "cpt", "long": "x"}', r"line 2: code is missing"),
        (
            '{"code": "X1", "system": "cpt"}',
            r"line 2: code X1 has neither long nor short",
        ),
        (
            '{"code": "X1", "system": "cpt", "long": "x", "colour": 1}',
            r"line 2: unknown field\(s\) colour",
        ),
        (
            '{"code": "X1", "system": "cpt", "long": "x", "effective": "1/2/2025"}',
            r"line 2: effective is '1/2/2025', expected a date YYYY-MM-DD",
        ),
        (
            '{"code": "X1", "system": "cpt", "long": "x", "synonyms": 5}',
            r"line 2: synonyms is 5, expected a list",
        ),
        (
            '{"code": "X1", "system": "cpt", "long": "x", "billable": "maybe"}',
            r"line 2: billable is 'maybe', expected true or false",
        ),
    ],
)
def test_bad_jsonl_rows(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    good = '{"code": "X0", "system": "cpt", "long": "fine"}'
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=rf"set\.jsonl, {message}"):
        list(read_custom(path))


def test_bad_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text("code,system,title\nX1,cpt,x\n", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=r"set\.csv, line 1: unknown columns \['title'\]"
    ):
        list(read_custom(path))


def test_csv_row_too_long(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text("code,system,long\nX1,cpt,x\nX2,cpt,y,extra\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"set\.csv, line 3: more cells"):
        list(read_custom(path))


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"expected \.jsonl or \.csv"):
        list(read_custom(tmp_path / "set.txt"))
