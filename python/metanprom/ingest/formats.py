"""The customer-extract formats the bank hands over: their exact headers and meaning.

Everything in the package that needs a format's raw column names (the input
checks, the generator, the calibration, the data-quality suites) reads them
from here; this module builds them from the declaration in dbt_project.yml
(var `extract_formats`), which the dbt staging models read too.
"""

from __future__ import annotations

from dataclasses import dataclass

from metanprom import project

_TYPES = project.customer_columns()
#: Canonical numeric columns (numbers, not 0/1 flags) and 0/1 flag columns of every format.
NUMERIC_COLUMNS = tuple(column for column, kind in _TYPES.items() if kind != "flag")
FLAG_COLUMNS = tuple(column for column, kind in _TYPES.items() if kind == "flag")


@dataclass(frozen=True)
class ExtractFormat:
    """One extract format: its name, its exact header and the canonical name of each column."""

    name: str
    header: tuple[str, ...]
    canonical: dict[str, str]
    cities: tuple[str, ...]
    label_en: str
    label_ru: str

    def raw(self, canonical_name: str) -> str:
        """The raw header name of a canonical column."""
        for raw, canon in self.canonical.items():
            if canon == canonical_name:
                return raw
        raise KeyError(canonical_name)


FORMATS: dict[str, ExtractFormat] = {
    name: ExtractFormat(
        name=name,
        header=tuple(spec["columns"]),
        canonical=dict(spec["columns"]),
        cities=tuple(spec["cities"]),
        label_en=spec["label_en"],
        label_ru=spec["label_ru"],
    )
    for name, spec in project.extract_formats().items()
}


class ExtractHeaderError(ValueError):
    """A file's header matches neither extract format (or not the one asked for)."""


def check_header(path: str, columns: list[str], expected: str | None = None) -> ExtractFormat:
    """Return the format whose header `columns` is, or raise naming the file and the differences.

    Column names are compared exactly: the formats differ only by name and case.
    """
    candidates = [FORMATS[expected]] if expected else list(FORMATS.values())
    for fmt in candidates:
        if list(fmt.header) == list(columns):
            return fmt
    messages = []
    for fmt in candidates:
        missing = [c for c in fmt.header if c not in columns]
        unexpected = [c for c in columns if c not in fmt.header]
        order = "" if missing or unexpected else " (same columns, different order)"
        messages.append(
            f"as {fmt.name}: missing columns {missing or 'none'}, unexpected columns {unexpected or 'none'}{order}"
        )
    raise ExtractHeaderError(f"{path}: the header matches no known extract format; " + "; ".join(messages))
