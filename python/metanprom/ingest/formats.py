"""The two customer-extract formats the bank hands over: their exact headers and meaning.

Everything that needs to know a format's raw column names (the generator, the
header check, the calibration, the data-quality suites) reads them from here;
the dbt staging models hold the same mapping in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Canonical numeric columns (numbers, not 0/1 flags) and 0/1 flag columns of both formats.
NUMERIC_COLUMNS = ("credit_score", "age", "property_score", "balance", "product_count", "estimated_salary")
FLAG_COLUMNS = ("has_credit_card", "is_active", "is_churned")


@dataclass(frozen=True)
class ExtractFormat:
    """One extract format: its name, its exact header and the canonical name of each column."""

    name: str
    header: tuple[str, ...]
    canonical: dict[str, str]
    cities: tuple[str, ...]

    def raw(self, canonical_name: str) -> str:
        """The raw header name of a canonical column."""
        for raw, canon in self.canonical.items():
            if canon == canonical_name:
                return raw
        raise KeyError(canonical_name)


BANK_SCROOGE = ExtractFormat(
    name="bank_scrooge",
    header=(
        "USERID",
        "score",
        "city",
        "gender",
        "age",
        "equity",
        "balance",
        "products",
        "credit_card",
        "last_activity",
        "EST_SALARY",
        "churn",
    ),
    canonical={
        "USERID": "customer_id",
        "score": "credit_score",
        "city": "city",
        "gender": "gender",
        "age": "age",
        "equity": "property_score",
        "balance": "balance",
        "products": "product_count",
        "credit_card": "has_credit_card",
        "last_activity": "is_active",
        "EST_SALARY": "estimated_salary",
        "churn": "is_churned",
    },
    cities=("Ярославль", "Рыбинск", "Ростов"),
)

BANK_DATASET = ExtractFormat(
    name="bank_dataset",
    header=(
        "userid",
        "score",
        "City",
        "Gender",
        "Age",
        "Objects",
        "Balance",
        "Products",
        "CreditCard",
        "Loyalty",
        "estimated_salary",
        "Churn",
    ),
    canonical={
        "userid": "customer_id",
        "score": "credit_score",
        "City": "city",
        "Gender": "gender",
        "Age": "age",
        "Objects": "property_score",
        "Balance": "balance",
        "Products": "product_count",
        "CreditCard": "has_credit_card",
        "Loyalty": "is_active",
        "estimated_salary": "estimated_salary",
        "Churn": "is_churned",
    },
    cities=("Ярославль", "Рыбинск", "Ростов Великий"),
)

FORMATS: dict[str, ExtractFormat] = {f.name: f for f in (BANK_SCROOGE, BANK_DATASET)}


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
