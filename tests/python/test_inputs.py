"""Extracts as people save them (Excel, LibreOffice, Google Sheets, 1C), generated from the shipped sample:
each variant gives the same rows, and so the same customers, as the original; paths as people name them
(quotes, semicolons, comment marks, braces, Cyrillic, a hostile name) reach SQL only as quoted strings."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from metanprom import pipeline
from metanprom.delivery.export import DUCKDB_FILE, export
from metanprom.ingest.inputs import InputError, prepare_input
from metanprom.settings import PROJECT_DIR
from metanprom.sqltext import sql_identifier, sql_string

SEEDS = {name: PROJECT_DIR / "seeds" / f"{name}.csv" for name in ("bank_scrooge", "bank_dataset")}


def _table(name: str) -> tuple[list[str], list[list[str]]]:
    with open(SEEDS[name], encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _text(header: list[str], rows: list[list[str]], delimiter: str = ",", quote_all: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _reorder(header: list[str], rows: list[list[str]], order: list[int]) -> tuple[list[str], list[list[str]]]:
    return [header[i] for i in order], [[row[i] for i in order] for row in rows]


NUMERIC = {
    "bank_scrooge": ["score", "age", "balance", "EST_SALARY"],
    "bank_dataset": ["score", "Balance", "estimated_salary"],
}


def _russian_numbers(name: str, header: list[str], rows: list[list[str]], group: bool) -> list[list[str]]:
    """Decimal commas, and (group=True) no-break spaces between digit groups, in the numeric columns."""
    positions = [header.index(c) for c in NUMERIC[name]]
    out = []
    for row in rows:
        row = list(row)
        for i in positions:
            value = row[i]
            if group and value:
                whole, _, fraction = value.partition(".")
                sign = "-" if whole.startswith("-") else ""
                digits = whole.lstrip("-")
                groups = []
                while digits:
                    groups.insert(0, digits[-3:])
                    digits = digits[:-3]
                value = sign + "\u00a0".join(groups) + (f".{fraction}" if fraction else "")
            row[i] = value.replace(".", ",")
        out.append(row)
    return out


def _variant(make: Callable[[list[str], list[list[str]], str], bytes]) -> Callable[[str, Path], Path]:
    def write(name: str, path: Path) -> Path:
        header, rows = _table(name)
        path.write_bytes(make(header, rows, name))
        return path

    return write


REVERSED = list(range(11, -1, -1))
VARIANTS: dict[str, tuple[Callable[[str, Path], Path], list[str]]] = {
    # Excel: "Unicode text" is UTF-16 little-endian with a byte-order mark, tab-separated
    "excel_unicode_text": (
        _variant(lambda h, r, n: b"\xff\xfe" + _text(h, r, "\t").encode("utf-16-le")),
        ["UTF-16 (little-endian)", "tabs"],
    ),
    "utf16_big_endian_with_mark": (
        _variant(lambda h, r, n: b"\xfe\xff" + _text(h, r, "\t").encode("utf-16-be")),
        ["UTF-16 (big-endian)", "tabs"],
    ),
    "utf16_without_a_mark": (
        _variant(lambda h, r, n: _text(h, r, ",").encode("utf-16-le")),
        ["UTF-16 (little-endian)"],
    ),
    # Excel "CSV UTF-8" in a Russian locale: a byte-order mark, semicolons, decimal commas
    "excel_csv_utf8_russian": (
        _variant(lambda h, r, n: b"\xef\xbb\xbf" + _text(h, _russian_numbers(n, h, r, False), ";").encode()),
        ["byte-order mark", "semicolons", "decimal commas"],
    ),
    # 1C: Windows-1251, semicolons, decimal commas, digit groups split by no-break spaces, its own column order
    "one_c_export": (
        _variant(
            lambda h, r, n: _text(
                *_reorder([c.lower() for c in h], _russian_numbers(n, h, r, True), REVERSED), ";"
            ).encode("cp1251")
        ),
        ["Windows-1251", "semicolons", "another order", "digit groups", "decimal commas"],
    ),
    # LibreOffice quotes every text field; Google Sheets writes plain UTF-8 commas with CRLF
    "libreoffice_quoted": (_variant(lambda h, r, n: _text(h, r, ",", quote_all=True).encode()), []),
    "google_sheets": (_variant(lambda h, r, n: _text(h, r, ",").encode()), []),
    "tab_separated": (_variant(lambda h, r, n: _text(h, r, "\t").encode()), ["tabs"]),
    "pipe_separated": (_variant(lambda h, r, n: _text(h, r, "|").encode()), ["pipes"]),
    "columns_reversed": (_variant(lambda h, r, n: _text(*_reorder(h, r, REVERSED), ",").encode()), ["another order"]),
}


def _read(path: Path, name: str) -> list[tuple]:
    """Every row, as text, in the format's column order (an all-text read: what dbt's base models read)."""
    header, _ = _table(name)
    columns = ", ".join(sql_identifier(c) for c in header)
    return duckdb.sql(
        f"select {columns} from read_csv({sql_string(path)}, header = true, all_varchar = true)"
    ).fetchall()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(SEEDS))
@pytest.mark.parametrize("case", sorted(VARIANTS))
def test_every_variant_gives_the_originals_rows(case: str, name: str, tmp_path: Path) -> None:
    make, notes = VARIANTS[case]
    saved = make(name, tmp_path / f"{case}.csv")
    before = _digest(saved)
    prepared = prepare_input(saved, name, tmp_path / "work")
    for note in notes:
        assert any(note in n for n in prepared.notes), (note, prepared.notes)
    if not notes:
        assert prepared.path == saved and prepared.notes == []
    assert _read(prepared.path, name) == _read(SEEDS[name], name)
    assert _digest(saved) == before, "the user's file is never changed"


def test_variants_build_the_same_customers_as_the_shipped_sample(shipped_warehouse: Path, tmp_path: Path) -> None:
    files = {
        "bank_scrooge": VARIANTS["excel_unicode_text"][0]("bank_scrooge", tmp_path / "scrooge unicode.txt"),
        "bank_dataset": VARIANTS["one_c_export"][0]("bank_dataset", tmp_path / "выгрузка 1С.csv"),
    }
    result = pipeline.build(files, tmp_path / "w.duckdb", log=lambda _: None)
    query = "select * from customers order by extract, source_row_number"
    with duckdb.connect(str(shipped_warehouse), read_only=True) as shipped:
        expected = shipped.execute(query).fetchall()
    with duckdb.connect(str(result.warehouse), read_only=True) as built:
        assert built.execute(query).fetchall() == expected
    assert len(expected) > 19_900


@pytest.mark.parametrize(
    ("header", "expected", "message"),
    [
        (
            _table("bank_scrooge")[0],
            "bank_dataset",
            "this looks like a bank_scrooge extract: pass it as that format (--bank-scrooge)",
        ),
        (["userid", *_table("bank_dataset")[0]], "bank_dataset", "column(s) named more than once: ['userid']"),
        (_table("bank_dataset")[0][:-1], "bank_dataset", "missing columns ['Churn']"),
    ],
)
def test_a_header_that_is_not_the_formats_is_refused_saying_what_was_found(header, expected, message, tmp_path):
    _, rows = _table("bank_dataset")
    path = tmp_path / "wrong.txt"
    path.write_bytes(b"\xff\xfe" + _text(header, [r[: len(header)] for r in rows[:5]], "\t").encode("utf-16-le"))
    with pytest.raises(InputError) as error:
        prepare_input(path, expected, tmp_path / "work")
    text = str(error.value)
    assert str(path) in text and message in text
    assert "separated by tabs (UTF-16 (little-endian))" in text
    assert not (tmp_path / "work").exists(), "nothing written for a refused file"


HOSTILE = [
    "it's here",
    'a "quoted" name',
    "semi;colon -- dash",
    "{braces} 100% report #1",
    "Выгрузка Ярославль",
]


def test_hostile_paths_reach_sql_only_as_strings(shipped_warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path.joinpath(*HOSTILE)
    extracts = folder / "what? #2"
    extracts.mkdir(parents=True)
    scrooge = extracts / "x'); drop table customers; --.csv"
    scrooge.write_bytes(SEEDS["bank_scrooge"].read_bytes())  # read in place: the path goes to dbt as it is
    dataset = extracts / 'x"); drop table customers; --.csv'
    header, rows = _table("bank_dataset")
    dataset.write_text(_text(header, rows, ";"), encoding="utf-8")  # normalised: a copy beside the warehouse
    warehouse = folder / "it's the warehouse; --.duckdb"
    result = pipeline.build({"bank_scrooge": scrooge, "bank_dataset": dataset}, warehouse, log=lambda _: None)
    assert result.warehouse == warehouse
    query = "select extract, count(*), sum(balance) from customers group by 1 order by 1"
    with duckdb.connect(str(shipped_warehouse), read_only=True) as shipped:
        expected = shipped.execute(query).fetchall()
    with duckdb.connect(str(warehouse), read_only=True) as built:
        assert built.execute(query).fetchall() == expected
        tables = {
            r[0]
            for r in built.execute(
                "select table_name from duckdb_tables() union all select view_name from duckdb_views()"
            ).fetchall()
        }
    assert {"customers", "customers_quarantined", "segment_summary"} <= tables
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".duckdb") == [warehouse.name]

    out = extracts / "exports; --"
    export(warehouse, out, marts=("customers", "segment_summary"), log=lambda _: None)
    with duckdb.connect(str(out / "duckdb" / DUCKDB_FILE), read_only=True) as copy:
        assert copy.execute("select count(*) from customers").fetchall() == [(sum(r[1] for r in expected),)]


def test_a_warehouse_path_duckdb_cannot_use_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    target = tmp_path / "why?" / "w.duckdb"
    with pytest.raises(InputError, match=r"cannot keep a database at a path with a '\?'") as error:
        pipeline.build({"bank_scrooge": None, "bank_dataset": None}, target, log=lambda _: None)
    assert str(target) in str(error.value)
    assert not (tmp_path / "why?").exists()


def test_the_one_quoting_rule(tmp_path: Path) -> None:
    for text in ["it's", "x'); drop table t; --", 'a"b', "{x}", "Ярославль", "--", ";"]:
        assert duckdb.sql(f"select {sql_string(text)}").fetchall()[0][0] == text
        assert duckdb.sql(f"select 1 as {sql_identifier(text)}").columns == [text]
    with pytest.raises(ValueError, match="NUL"):
        sql_string("a\x00b")
