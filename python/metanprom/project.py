"""The project's declarations, read from the one place they are written: the vars of dbt_project.yml.

dbt reads the same vars (`var('extract_formats')`, `var('features')`, ...), so
a format, a feature list or a plausibility bound changed there changes both
the SQL and the Python package. See the README, "Adding an extract format".
"""

from __future__ import annotations

import csv
from functools import cache
from typing import Any

import yaml

from metanprom.settings import PROJECT_DIR


@cache
def declarations() -> dict[str, Any]:
    """The vars of dbt_project.yml (the file as committed; `--vars` given to one dbt run are not seen)."""
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle)["vars"])


def extract_formats() -> dict[str, dict[str, Any]]:
    """Each extract format: label_en, label_ru, cities (as spelled in the file), columns (raw -> canonical)."""
    return dict(declarations()["extract_formats"])


def customer_columns() -> dict[str, str]:
    """The canonical columns parsed from text and their types: integer, double or flag."""
    return dict(declarations()["customer_columns"])


def number_pattern() -> str:
    """The regular expression a number in an extract file matches whole, once trimmed of spaces (var
    `number_pattern`): the staging of a user's file, the raw gate's range checks and its pattern share it."""
    return str(declarations()["number_pattern"])


def space_separators() -> str:
    """The spaces forgiven around a value of an extract file (var `space_separators`: Unicode's space separators,
    category Zs), what DuckDB's trim() removes; dbt's macro `trim_spaces` gives Spark the same set."""
    return "".join(chr(code_point) for code_point in declarations()["space_separators"])


def plausible_ranges() -> dict[str, tuple[float, float]]:
    """Per column, the bounds outside which a value is implausible."""
    return {column: (low, high) for column, (low, high) in declarations()["plausible_ranges"].items()}


def features() -> dict[str, Any]:
    """The feature lists: numeric, categorical, flags, rule_types, labels."""
    return dict(declarations()["features"])


def feature_labels(lang: str) -> dict[str, str]:
    """Each feature's name in `lang` (en or ru)."""
    return {feature: names[lang] for feature, names in features()["labels"].items()}


def clusters() -> dict[str, Any]:
    """The clustering declaration: k_min, k_max and the features as SQL over `customers` (name -> SQL)."""
    declared = declarations()["clusters"]
    return {"k_min": int(declared["k_min"]), "k_max": int(declared["k_max"]), "features": dict(declared["features"])}


def gender_codes() -> dict[str, str]:
    """How the extracts spell gender -> its code in the marts."""
    return dict(declarations()["gender_codes"])


def city_spellings() -> list[str]:
    """Every spelling of a city the staging maps (seed city_names' raw_city, lower case; the staging compares the
    lower-cased value, trimmed of spaces)."""
    with open(PROJECT_DIR / "seeds" / "city_names.csv", encoding="utf-8", newline="") as handle:
        return [row["raw_city"].strip(space_separators()).lower() for row in csv.DictReader(handle)]


def random_seed() -> int:
    """The seed of every random choice the statistics and the calibration make."""
    return int(declarations()["random_seed"])


@cache
def unique_keys() -> dict[str, tuple[str, ...]]:
    """Each model's key: the columns of the first `unique_combination_of_columns` data test written on the model
    (not on a column) in the properties files under models/, where dbt reads the same test."""
    keys: dict[str, tuple[str, ...]] = {}
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        for model in data.get("models") or []:
            for test in model.get("data_tests") or []:
                spec = test.get("unique_combination_of_columns") if isinstance(test, dict) else None
                if spec is None or model["name"] in keys:
                    continue
                columns = (spec.get("arguments") or spec).get("combination_of_columns")
                if columns:
                    keys[model["name"]] = tuple(str(column) for column in columns)
    return keys
