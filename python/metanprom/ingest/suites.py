"""What the data-quality gates check: the Great Expectations suites, as data, and the severity policy.

`raw_spec` and `mart_spec` list (expectation, arguments, severity); the gate
(metanprom.ingest.quality) runs them. The plausible ranges come from the
project's declarations (var `plausible_ranges`), the bounds dbt quarantines by.
"""

from __future__ import annotations

import re
from typing import Any

from metanprom import project
from metanprom.ingest.formats import FLAG_COLUMNS, FORMATS, NUMERIC_COLUMNS

#: The Russian federal minimum wage for 2026, roubles a month.
MINIMUM_WAGE_RUB = 27_093


def _spaced(pattern: str, ignore_case: bool = False) -> str:
    """A raw value matching `pattern` whole once the spaces around it are trimmed, as the staging trims them: the
    characters of var `space_separators` (Unicode's space separators; dbt's macro `trim_spaces`), not a tab or a
    line break (Python's \\s would forgive those, which no engine's staging does)."""
    # the characters themselves, not \u escapes: pandas then matches with pyarrow's RE2, which reads none of
    # Python's \u escapes (with them it falls back to Python's re, row by row: 1.3 s of the raw gate at 10 million
    # rows, 0.1 s with RE2; the same matches)
    spaces = "[" + "".join(project.space_separators()) + "]"
    # \Z, not $: $ also matches before a final line break, which the staging does not forgive
    return rf"{'(?i)' if ignore_case else ''}^{spaces}*(?:{pattern}){spaces}*\Z"


def number_regex() -> str:
    """A raw numeric value as the staging parses it: the project's number grammar (var `number_pattern`), spaces
    around it forgiven."""
    return _spaced(project.number_pattern())


def flag_regex() -> str:
    """A raw 0/1 flag as the staging reads it (macro `parse_flag_text`): 0 or 1, spaces around it forgiven."""
    return _spaced("[01]")


def one_of_regex(values: list[str]) -> str:
    """A raw value the staging maps, whatever its letters' case (it compares lower- or upper-cased values): one of
    `values`, spaces around it forgiven."""
    return _spaced("|".join(re.escape(value) for value in values), ignore_case=True)


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
    # each set as the staging reads it: spaces around a value forgiven, any case; a city in any spelling seed
    # city_names maps, a gender as var `gender_codes` spells it
    patterns = {
        "city": one_of_regex(project.city_spellings()),
        "gender": one_of_regex(list(project.gender_codes())),
        **{canon: flag_regex() for canon in FLAG_COLUMNS},
        **{canon: number_regex() for canon in NUMERIC_COLUMNS},
    }
    text: list[tuple[str, dict[str, Any], str]] = [
        ("ExpectTableColumnsToMatchOrderedList", {"column_list": list(fmt.header)}, "error"),
        ("ExpectTableRowCountToBeBetween", {"min_value": 1}, "error"),
        ("ExpectColumnValuesToNotBeNull", {"column": raw("customer_id"), "mostly": 0.95}, "error"),
    ]
    for canon, pattern in patterns.items():
        text.append(
            ("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": pattern, "mostly": 0.95}, "error")
        )
        text.append(("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": pattern}, "warning"))
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
