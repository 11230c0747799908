"""What the data-quality gates check: the Great Expectations suites, as data, and the severity policy.

`raw_spec` and `mart_spec` list (expectation, arguments, severity); the gate
(metanprom.ingest.quality) runs them. The plausible ranges come from the
project's declarations (var `plausible_ranges`), the bounds dbt quarantines by.
"""

from __future__ import annotations

from typing import Any

from metanprom import project
from metanprom.ingest.formats import FLAG_COLUMNS, FORMATS, NUMERIC_COLUMNS

#: The Russian federal minimum wage for 2026, roubles a month.
MINIMUM_WAGE_RUB = 27_093


def number_regex() -> str:
    """A raw numeric value as the staging parses it: the project's number grammar (var `number_pattern`), spaces
    around it forgiven."""
    return rf"^\s*(?:{project.number_pattern()})\s*$"


SEVERITY_POLICY = {
    "error": [
        "the header is not exactly the format's",
        "the file has no customer rows",
        "more than 5 % of a column's values do not parse, or are outside their set (city, gender, 0/1 flags)",
        "any negative balance",
        "more than 5 % of rows miss a required value",
        "a public mart has a column of the wrong type",
        "customers + quarantined rows differ from the rows in the file",
    ],
    "warning": [
        "any value that does not parse or is outside its set (those rows are quarantined)",
        "a value outside its plausible range (var `plausible_ranges` in dbt_project.yml: age, credit score, "
        "property score, product count), the bounds beyond which dbt quarantines the row",
        "salaries below the legal minimum wage (27,093 roubles a month in 2026)",
        "missing ages above 1 %, missing balances above 50 %",
        "a customer key (id and city) used twice",
        "an extract's churn rate outside 2-60 %; a registry hypothesis not tested",
    ],
}


def raw_spec(fmt_name: str) -> tuple[list[tuple[str, dict[str, Any], str]], list[tuple[str, dict[str, Any], str]]]:
    """Expectations on a raw extract: (on the values as text, on the values as numbers)."""
    fmt = FORMATS[fmt_name]
    raw = fmt.raw
    genders = list(project.gender_codes())  # as the extracts spell them
    text: list[tuple[str, dict[str, Any], str]] = [
        ("ExpectTableColumnsToMatchOrderedList", {"column_list": list(fmt.header)}, "error"),
        ("ExpectTableRowCountToBeBetween", {"min_value": 1}, "error"),
        ("ExpectColumnValuesToNotBeNull", {"column": raw("customer_id"), "mostly": 0.95}, "error"),
        (
            "ExpectColumnValuesToBeInSet",
            {"column": raw("city"), "value_set": list(fmt.cities), "mostly": 0.95},
            "error",
        ),
        ("ExpectColumnValuesToBeInSet", {"column": raw("city"), "value_set": list(fmt.cities)}, "warning"),
        ("ExpectColumnValuesToBeInSet", {"column": raw("gender"), "value_set": genders, "mostly": 0.95}, "error"),
        ("ExpectColumnValuesToBeInSet", {"column": raw("gender"), "value_set": genders}, "warning"),
    ]
    for canon in FLAG_COLUMNS:
        text.append(
            ("ExpectColumnValuesToBeInSet", {"column": raw(canon), "value_set": ["0", "1"], "mostly": 0.95}, "error")
        )
        text.append(("ExpectColumnValuesToBeInSet", {"column": raw(canon), "value_set": ["0", "1"]}, "warning"))
    number = number_regex()
    for canon in NUMERIC_COLUMNS:
        text.append(
            ("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": number, "mostly": 0.95}, "error")
        )
        text.append(("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": number}, "warning"))
    for canon in ("credit_score", "property_score", "product_count", "estimated_salary", "is_churned"):
        text.append(("ExpectColumnValuesToNotBeNull", {"column": raw(canon), "mostly": 0.95}, "error"))
    text += [
        ("ExpectColumnValuesToNotBeNull", {"column": raw("age"), "mostly": 0.99}, "warning"),
        ("ExpectColumnValuesToNotBeNull", {"column": raw("balance"), "mostly": 0.5}, "warning"),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": [raw("customer_id"), raw("city")]}, "warning"),
    ]
    numbers = [
        ("ExpectColumnValuesToBeBetween", {"column": raw("balance"), "min_value": 0}, "error"),
        *(
            ("ExpectColumnValuesToBeBetween", {"column": raw(column), "min_value": low, "max_value": high}, "warning")
            for column, (low, high) in project.plausible_ranges().items()
        ),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": raw("estimated_salary"), "min_value": MINIMUM_WAGE_RUB},
            "warning",
        ),
    ]
    return text, numbers


def mart_spec(raw_rows: dict[str, int] | None) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """Expectations on the public marts Tableau reads."""
    customers = [
        ("ExpectColumnValuesToBeInTypeList", {"column": "is_churned", "type_list": ["bool", "boolean"]}, "error"),
        (
            "ExpectColumnValuesToBeInTypeList",
            {"column": "product_count", "type_list": ["int32", "int64", "Int32"]},
            "error",
        ),
        ("ExpectColumnValuesToBeInTypeList", {"column": "balance", "type_list": ["float64", "Float64"]}, "error"),
        ("ExpectColumnValuesToMatchRegex", {"column": "age_band", "regex": r"^\d\d: "}, "error"),
        ("ExpectColumnMeanToBeBetween", {"column": "is_churned", "min_value": 0.02, "max_value": 0.6}, "warning"),
        ("ExpectColumnValuesToNotBeNull", {"column": "balance", "mostly": 0.5}, "warning"),
    ]
    if raw_rows:
        customers.append(("ExpectTableRowCountToBeBetween", {"min_value": 1}, "error"))
    return {
        "customers": customers,
        "segment_summary": [
            ("ExpectColumnValuesToBeInTypeList", {"column": "customers", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeBetween", {"column": "churn_rate", "min_value": 0, "max_value": 1}, "error"),
        ],
        "dashboard_customers": [
            # the workbook's rates are SUM([churned]) / SUM([customers]): both must be integers
            ("ExpectColumnValuesToBeInTypeList", {"column": "churned", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "customers", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "is_churned", "type_list": ["bool", "boolean"]}, "error"),
            ("ExpectColumnValuesToNotBeNull", {"column": "scheme"}, "error"),
        ],
        "hypothesis_results": [
            ("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["tested"]}, "warning"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "reject_null", "type_list": ["bool", "boolean"]}, "error"),
        ],
    }
