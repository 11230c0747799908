"""Check a user's extract before anything is built, and normalise what spreadsheets produce.

Accepted as they are: UTF-8, comma-separated, the format's exact header
(CRLF line ends and quoted fields included; DuckDB reads them).

Accepted after a documented normalisation into a UTF-8, comma-separated copy
beside the warehouse (the original is never changed):
  * a UTF-8 byte-order mark is dropped;
  * Windows-1251 text (what Russian Excel writes) is re-encoded to UTF-8;
  * semicolon-separated files are re-written comma-separated, and a decimal
    comma in their numeric columns (`850,0`) becomes a point;
  * header names that differ from the format's only by case or surrounding
    spaces are replaced by the format's own.

Rejected, with a message naming the file and what was expected: an empty
file, a header with no rows, a header that matches neither format (the
missing and unexpected columns are named), text that is neither UTF-8 nor
Windows-1251.

Row-level problems (text in a numeric column, a truncated last line, absurd
values, duplicates) are not decided here: those rows are quarantined by dbt
with a reason, see `customers_quarantined`.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from metanprom.formats import FLAG_COLUMNS, FORMATS, NUMERIC_COLUMNS, ExtractFormat, check_header

SNIFF_BYTES = 1 << 16
NUMERIC_CANONICAL = (*NUMERIC_COLUMNS, *FLAG_COLUMNS)


class InputError(ValueError):
    """A user's extract cannot be used; the message names the file and what was expected."""


@dataclass
class PreparedInput:
    """The file dbt should read, and what was done to get it."""

    path: Path
    fmt: ExtractFormat
    notes: list[str] = field(default_factory=list)


def _detect_encoding(path: Path, head: bytes) -> tuple[str, list[str]]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", ["UTF-8 byte-order mark dropped"]
    try:
        head.decode("utf-8")
        return "utf-8", []
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sniff window is still UTF-8.
        if error.start >= len(head) - 3:
            return "utf-8", []
    try:
        text = head.decode("cp1251")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: byte {error.start} is neither UTF-8 nor Windows-1251 text; "
            "expected a CSV extract in UTF-8 (or Windows-1251)"
        ) from error
    if not any("а" <= ch.lower() <= "я" for ch in text):
        raise InputError(f"{path}: not UTF-8 text; expected a CSV extract in UTF-8 (or Windows-1251)")
    return "cp1251", ["re-encoded from Windows-1251 to UTF-8"]


def _transcode(path: Path, encoding: str, out: Path) -> None:
    with open(path, encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(1 << 22):
            dst.write(block)


def _match_header(path: Path, names: list[str], expected: str) -> tuple[ExtractFormat, list[str]]:
    """The format of a header, allowing names that differ only by case or spaces."""
    try:
        return check_header(str(path), names, expected), []
    except ValueError as exact_error:
        folded = [n.strip().lower() for n in names]
        fmt = FORMATS[expected]
        if folded == [h.lower() for h in fmt.header]:
            return fmt, ["header names normalised (case, spaces) to the format's own"]
        raise InputError(str(exact_error)) from exact_error


def prepare_input(path: Path, expected: str, work_dir: Path) -> PreparedInput:
    """Check a user's extract of format `expected`; return the file to read (normalised if needed)."""
    path = Path(path)
    if expected not in FORMATS:
        raise InputError(f"unknown extract format {expected!r}; expected one of {sorted(FORMATS)}")
    if not path.is_file():
        raise InputError(f"{path}: no such file (the {expected} extract)")
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: the file is empty; expected a header row ({','.join(FORMATS[expected].header)}) "
            "and one row per customer"
        )
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding, notes = _detect_encoding(path, head)
    text = head.decode(encoding, errors="ignore")
    lines = text.splitlines()
    header_line = lines[0] if lines else ""
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    names = [n.strip().strip('"') for n in header_line.split(delimiter)]
    fmt, header_notes = _match_header(path, names, expected)
    notes += header_notes
    data_lines = [line for line in lines[1:] if line.strip()]
    if not data_lines:
        raise InputError(f"{path}: only a header, no customer rows; expected one row per customer after the header")
    decimal_comma = delimiter == ";" and any("," in value for line in data_lines[:200] for value in line.split(";"))
    if delimiter == ";":
        notes.append("semicolon-separated: re-written comma-separated")
    if decimal_comma:
        notes.append("decimal commas in numeric columns read as decimal points")
    if not notes:
        return PreparedInput(path=path, fmt=fmt)

    work_dir.mkdir(parents=True, exist_ok=True)
    source = path
    transcoded: Path | None = None
    if encoding != "utf-8":
        fd, name = tempfile.mkstemp(prefix=f".{expected}.", suffix=".utf8.csv", dir=work_dir)
        os.close(fd)
        transcoded = Path(name)
        _transcode(path, encoding, transcoded)
        source = transcoded
    out = work_dir / f"{expected}.normalised.csv"
    tmp_out = out.with_name(out.name + ".tmp")
    columns = []
    for found, raw in zip(names, fmt.header, strict=True):
        value = f'"{found}"'
        if decimal_comma and fmt.canonical[raw] in NUMERIC_CANONICAL:
            value = f"replace({value}, ',', '.')"
        columns.append(f'{value} as "{raw}"')
    source_sql = str(source).replace("'", "''")
    try:
        duckdb.execute(
            f"copy (select {', '.join(columns)} from read_csv('{source_sql}', header = true, "
            f"delim = '{delimiter}', all_varchar = true, null_padding = true)) "
            f"to '{str(tmp_out).replace(chr(39), chr(39) * 2)}' (format csv, header true)"
        )
    except duckdb.Error as error:
        tmp_out.unlink(missing_ok=True)
        raise InputError(f"{path}: could not be read as a {expected} extract: {error}") from error
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)
    os.replace(tmp_out, out)
    return PreparedInput(path=out, fmt=fmt, notes=notes)
