"""The generator: exact formats, determinism, quirks, and the shipped seeds it wrote."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from metanprom.devtools.generator import INVALID_PRODUCTS_EVERY, generate
from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_shipped_seed_is_the_generators_output(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"{fmt}.csv"
    generate(fmt, 10_000, out, seed=0)
    assert _digest(out) == _digest(PROJECT_DIR / "seeds" / f"{fmt}.csv")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_same_seed_same_bytes_other_seed_other_bytes(fmt: str, tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    generate(fmt, 3_000, a, seed=7)
    generate(fmt, 3_000, b, seed=7)
    generate(fmt, 3_000, c, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_sizes_beyond_one_chunk_are_exact(tmp_path: Path) -> None:
    out = tmp_path / "big.csv"
    figures = generate("bank_dataset", 260_001, out, seed=1)
    with open(out, "rb") as handle:
        lines = sum(1 for _ in handle)
    assert figures["rows"] == 260_001
    assert lines == 260_002


def test_current_format_values_and_quirks() -> None:
    rows = _rows(PROJECT_DIR / "seeds" / "bank_scrooge.csv")
    assert list(rows[0]) == list(FORMATS["bank_scrooge"].header)
    assert all(r["score"].endswith(".0") for r in rows)
    assert all(r["age"] == "" or r["age"].endswith(".0") for r in rows)
    assert {r["city"] for r in rows} == {"Ярославль", "Рыбинск", "Ростов"}
    assert {r["gender"] for r in rows} == {"Ж", "М"}
    by_id: dict[str, list[str]] = {}
    for r in rows:
        by_id.setdefault(r["USERID"], []).append(r["city"])
    shared = {k: v for k, v in by_id.items() if len(v) > 1}
    assert 30 <= len(shared) <= 150, "ids shared by two people, as in the real file (73)"
    assert all(len(v) == 2 and len(set(v)) == 2 for v in shared.values()), "each shared id: two cities"
    missing_age = [r for r in rows if r["age"] == ""]
    assert 5 <= len(missing_age) <= 60
    assert sum(r["USERID"] in shared for r in missing_age) > len(missing_age) / 2, "mostly on shared ids"
    missing_balance = sum(r["balance"] == "" for r in rows) / len(rows)
    assert 0.18 <= missing_balance <= 0.28
    assert sum(r["products"] == "0" for r in rows) == len(rows) // INVALID_PRODUCTS_EVERY, "the invalid-count quirk"
    balances = sorted(float(r["balance"]) for r in rows if r["balance"])
    assert balances[-1] > 20 * balances[len(balances) // 2], "heavy right tail"


def test_older_format_values_and_quirks() -> None:
    rows = _rows(PROJECT_DIR / "seeds" / "bank_dataset.csv")
    assert list(rows[0]) == list(FORMATS["bank_dataset"].header)
    assert all("." not in r["score"] and "." not in r["Age"] for r in rows)
    assert {r["City"] for r in rows} == {"Ярославль", "Рыбинск", "Ростов Великий"}
    assert len({r["userid"] for r in rows}) == len(rows)
    assert not any(r["Balance"] == "" for r in rows if r["City"] == "Ростов Великий")
    assert 0.30 <= sum(r["Balance"] == "" for r in rows) / len(rows) <= 0.42


def test_churn_relationships_of_the_shipped_sample() -> None:
    rows = _rows(PROJECT_DIR / "seeds" / "bank_scrooge.csv")

    def rate(pred) -> float:
        group = [r for r in rows if pred(r)]
        return sum(r["churn"] == "1" for r in group) / len(group)

    assert (
        rate(lambda r: r["products"] == "4")
        > rate(lambda r: r["products"] == "2")
        > rate(lambda r: r["products"] == "1")
    )
    assert rate(lambda r: r["gender"] == "М") > rate(lambda r: r["gender"] == "Ж")
    assert rate(lambda r: r["last_activity"] == "1") > rate(lambda r: r["last_activity"] == "0")


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown extract format"):
        generate("bank_nope", 10, tmp_path / "x.csv")
    with pytest.raises(ValueError, match="at least 1"):
        generate("bank_dataset", 0, tmp_path / "x.csv")
