"""Check a user's extract before anything is built, and normalise what spreadsheets write.

Accepted as they are: UTF-8, comma-separated, the format's exact header in its
order (CRLF line ends and quoted fields included; DuckDB reads them).

Accepted after a documented normalisation into a UTF-8, comma-separated copy
beside the warehouse, with the format's header in its order (the original is
never changed). What Excel, LibreOffice, Google Sheets and 1C write when a
table is saved as text:
  * encodings by byte-order mark and content: UTF-8 (a byte-order mark is
    dropped), UTF-16 little- or big-endian (Excel's "Unicode text", with or
    without a mark), Windows-1251 (Russian Excel's and 1C's CSV);
  * delimiters sniffed from the header: `,` `;` tab `|`;
  * columns matched by name in any order, case and surrounding spaces
    ignored;
  * numbers normalised where that is unambiguous: in a file not separated by
    commas a decimal comma (`850,5`) becomes a point, and spaces (also
    no-break spaces) between digit groups (`1 250 000`) go.

Refused, with a message naming the file, what was found and what was
expected: an empty file, a header with no rows, a header whose columns are not
the format's (the missing and unexpected columns are named; a file of the
other format is recognised as such), a column named twice, text in no
supported encoding.

Row-level problems (text in a numeric column, a truncated last line, absurd
values, duplicates) are not decided here: those rows are quarantined by dbt
with a reason, see `customers_quarantined`.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from metanprom.ingest.formats import FLAG_COLUMNS, FORMATS, NUMERIC_COLUMNS, ExtractFormat
from metanprom.sqltext import sql_identifier, sql_string

SNIFF_BYTES = 1 << 16
NUMERIC_CANONICAL = (*NUMERIC_COLUMNS, *FLAG_COLUMNS)
#: Delimiters a spreadsheet writes, and how a message names them.
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
#: Spaces that may group digits: space, no-break space, narrow no-break space.
DIGIT_GROUP_SPACES = (" ", "\u00a0", "\u202f")
_DECIMAL_COMMA = re.compile(r"^-?[\d \u00a0\u202f]*,\d+$")
_GROUPED_DIGITS = re.compile(r"^-?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?$")


class InputError(ValueError):
    """A user's extract cannot be used; the message names the file and what was expected."""


@dataclass
class PreparedInput:
    """The file dbt should read, and what was done to get it."""

    path: Path
    fmt: ExtractFormat
    notes: list[str] = field(default_factory=list)


def _describe_encoding(encoding: str) -> str:
    return {
        "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with a byte-order mark", "utf-16-le": "UTF-16 (little-endian)",
        "utf-16-be": "UTF-16 (big-endian)", "cp1251": "Windows-1251",
    }[encoding]  # fmt: skip


def _detect_encoding(path: Path, head: bytes) -> tuple[str, int, list[str]]:
    """The file's encoding, the length of its byte-order mark, and the note to report."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3, ["UTF-8 byte-order mark dropped"]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return encoding, 2, [f"re-encoded from {_describe_encoding(encoding)} to UTF-8"]
    sample = head[: len(head) - len(head) % 2]
    if sample and b"\x00" in sample:
        odd_zeros = sample[1::2].count(0) / (len(sample) / 2)
        even_zeros = sample[0::2].count(0) / (len(sample) / 2)
        # UTF-16 text without a mark: every ASCII character has a zero byte on the same side, and what it
        # decodes to reads as text
        side = "utf-16-le" if odd_zeros > 0.3 and even_zeros < 0.05 else None
        side = "utf-16-be" if even_zeros > 0.3 and odd_zeros < 0.05 else side
        if side and _reads_as_text(sample.decode(side, errors="replace")):
            return side, 0, [f"re-encoded from {_describe_encoding(side)} to UTF-8"]
        raise InputError(
            f"{path}: binary data (zero bytes at byte {head.index(0)}), not text; expected a CSV extract in "
            "UTF-8, UTF-16 or Windows-1251, as a spreadsheet writes it with 'Save as CSV' or 'Unicode text'"
        )
    try:
        head.decode("utf-8")
        return "utf-8", 0, []
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sniff window is still UTF-8.
        if error.start >= len(head) - 3 and len(head) == SNIFF_BYTES:
            return "utf-8", 0, []
    try:
        text = head.decode("cp1251")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: byte {error.start} is neither UTF-8, UTF-16 nor Windows-1251 text; "
            "expected a CSV extract in UTF-8 (or UTF-16, or Windows-1251)"
        ) from error
    if not any("а" <= ch.lower() <= "я" for ch in text):
        raise InputError(
            f"{path}: not UTF-8 text, and no Cyrillic letters that would make it Windows-1251; "
            "expected a CSV extract in UTF-8 (or UTF-16, or Windows-1251)"
        )
    return "cp1251", 0, ["re-encoded from Windows-1251 to UTF-8"]


def _reads_as_text(text: str) -> bool:
    """At least 95 % printable characters or line breaks and tabs."""
    good = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return bool(text) and good >= 0.95 * len(text)


def _fold(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def _header_fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _sniff_delimiter(header_line: str, fmt: ExtractFormat) -> tuple[str, list[str]]:
    """The delimiter whose split of the header finds most of the format's columns (ties: the most fields)."""
    wanted = {h.lower() for h in fmt.header}

    def score(delimiter: str) -> tuple[int, int]:
        fields = _header_fields(header_line, delimiter)
        return sum(_fold(f) in wanted for f in fields), len(fields)

    delimiter = max(DELIMITERS, key=score)
    return delimiter, _header_fields(header_line, delimiter)


def _refuse_header(path: Path, names: list[str], delimiter: str, encoding: str, expected: str) -> InputError:
    fmt = FORMATS[expected]
    folded = [_fold(n) for n in names]
    wanted = [h.lower() for h in fmt.header]
    missing = [h for h in fmt.header if h.lower() not in folded]
    unexpected = [n for n in names if _fold(n) not in wanted]
    repeated = sorted({n for n in names if folded.count(_fold(n)) > 1})
    found = f"found {len(names)} column(s) separated by {DELIMITERS[delimiter]} ({_describe_encoding(encoding)})"
    if repeated and not missing and not unexpected:
        detail = f"column(s) named more than once: {repeated}"
    else:
        detail = f"missing columns {missing or 'none'}, unexpected columns {unexpected or 'none'}"
    others = [
        other.name
        for other in FORMATS.values()
        if other.name != expected and sorted(folded) == sorted(h.lower() for h in other.header)
    ]
    hint = (
        f"; this looks like a {others[0]} extract: pass it as that format (--{others[0].replace('_', '-')})"
        if others
        else ""
    )
    return InputError(
        f"{path}: the header matches no known extract format; as {expected}: {detail}; {found}. "
        f"Expected the columns {','.join(fmt.header)} (any order, any case), separated by commas, "
        f"semicolons, tabs or pipes{hint}"
    )


def _number_notes(rows: list[list[str]], positions: dict[str, int], fmt: ExtractFormat, delimiter: str):
    """Whether the numeric columns use a decimal comma (only where commas do not separate fields) and
    spaces between digit groups."""
    numeric = [positions[raw] for raw, canon in fmt.canonical.items() if canon in NUMERIC_CANONICAL]
    values = [row[i].strip() for row in rows for i in numeric if i < len(row)]
    decimal_comma = delimiter != "," and any(_DECIMAL_COMMA.match(v) for v in values)
    grouped = any(_GROUPED_DIGITS.match(v) for v in values)
    return decimal_comma, grouped


def _transcode(path: Path, encoding: str, out: Path) -> None:
    with open(path, encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        if encoding.startswith("utf-16"):
            first = src.read(1)
            dst.write(first.lstrip("\ufeff"))
        while block := src.read(1 << 22):
            dst.write(block)


def prepare_input(path: Path, expected: str, work_dir: Path) -> PreparedInput:
    """Check a user's extract of format `expected`; return the file to read (normalised if needed)."""
    path = Path(path)
    if expected not in FORMATS:
        raise InputError(f"unknown extract format {expected!r}; expected one of {sorted(FORMATS)}")
    if not path.is_file():
        raise InputError(f"{path}: no such file (the {expected} extract)")
    fmt = FORMATS[expected]
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: the file is empty; expected a header row ({','.join(fmt.header)}) and one row per customer"
        )
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding, bom, notes = _detect_encoding(path, head)
    body = head[bom:]
    if encoding.startswith("utf-16"):
        body = body[: len(body) - len(body) % 2]
    text = body.decode(encoding.replace("-sig", ""), errors="ignore")
    lines = text.splitlines()
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sniff window
    header_line = lines[0] if lines else ""
    delimiter, names = _sniff_delimiter(header_line, fmt)
    folded = [_fold(n) for n in names]
    wanted = [h.lower() for h in fmt.header]
    if sorted(folded) != sorted(wanted):
        raise _refuse_header(path, names, delimiter, encoding, expected)
    positions = {raw: folded.index(raw.lower()) for raw in fmt.header}
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=delimiter) if any(v.strip() for v in r)]
    if not rows:
        raise InputError(f"{path}: only a header, no customer rows; expected one row per customer after the header")
    if delimiter != ",":
        notes.append(f"separated by {DELIMITERS[delimiter]}: re-written comma-separated")
    if names != list(fmt.header):
        if folded == wanted:
            notes.append("header names normalised (case, spaces) to the format's own")
        else:
            notes.append("columns in another order: matched by name and re-ordered to the format's order")
    decimal_comma, grouped = _number_notes(rows[:200], positions, fmt, delimiter)
    if decimal_comma:
        notes.append("decimal commas in numeric columns read as decimal points")
    if grouped:
        notes.append("spaces between digit groups removed from numbers")
    if not notes:
        return PreparedInput(path=path, fmt=fmt)
    return PreparedInput(
        path=_normalised_copy(path, fmt, encoding, delimiter, positions, decimal_comma, grouped, work_dir),
        fmt=fmt,
        notes=notes,
    )


def _normalised_copy(
    path: Path,
    fmt: ExtractFormat,
    encoding: str,
    delimiter: str,
    positions: dict[str, int],
    decimal_comma: bool,
    grouped: bool,
    work_dir: Path,
) -> Path:
    """A UTF-8, comma-separated copy with the format's header in its order, written atomically."""
    work_dir.mkdir(parents=True, exist_ok=True)
    source = path
    transcoded: Path | None = None
    if encoding != "utf-8":
        fd, name = tempfile.mkstemp(prefix=f".{fmt.name}.", suffix=".utf8.csv", dir=work_dir)
        os.close(fd)
        transcoded = Path(name)
        _transcode(path, encoding, transcoded)
        source = transcoded
    out = work_dir / f"{fmt.name}.normalised.csv"
    tmp_out = out.with_name(out.name + ".tmp")
    columns = []
    for raw in fmt.header:
        value = f"column{positions[raw]:02d}"
        if fmt.canonical[raw] in NUMERIC_CANONICAL:
            if grouped:
                for space in DIGIT_GROUP_SPACES:
                    value = f"replace({value}, {sql_string(space)}, '')"
            if decimal_comma:
                value = f"replace({value}, ',', '.')"
        columns.append(f"{value} as {sql_identifier(raw)}")
    try:
        con = duckdb.connect()
        try:
            read = (
                f"read_csv({sql_string(source)}, header = false, skip = 1, delim = {sql_string(delimiter)}, "
                "quote = '\"', all_varchar = true, null_padding = true)"
            )
            found = [r[0] for r in con.execute(f"describe select * from {read}").fetchall()]
            renamed = ", ".join(f"{sql_identifier(c)} as column{i:02d}" for i, c in enumerate(found))
            extra = [f"column{i:02d}" for i in range(len(fmt.header), len(found))]
            con.execute(
                f"copy (select {', '.join(columns + extra)} from (select {renamed} from {read})) "
                f"to {sql_string(tmp_out)} (format csv, header true)"
            )
        finally:
            con.close()
    except duckdb.Error as error:
        tmp_out.unlink(missing_ok=True)
        raise InputError(f"{path}: could not be read as a {fmt.name} extract: {error}") from error
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)
    os.replace(tmp_out, out)
    return out
