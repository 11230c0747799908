"""The declarations in dbt_project.yml: complete and consistent, so dbt and the package can both rely on them."""

from __future__ import annotations

from metanprom import project


def test_every_described_feature_has_a_label_in_both_languages() -> None:
    features = project.features()
    described = {*features["numeric"], *features["categorical"]}
    for lang in ("en", "ru"):
        labels = project.feature_labels(lang)
        assert described <= set(labels), f"{lang}: no label for {sorted(described - set(labels))}"


def test_every_feature_a_segment_rule_may_test_is_typed_and_numbers_are_numbers() -> None:
    features = project.features()
    assert set(features["rule_types"].values()) <= {"number", "boolean", "text"}
    assert {f for f, kind in features["rule_types"].items() if kind == "number"} == set(features["numeric"])
    assert {f for f, kind in features["rule_types"].items() if kind == "boolean"} == set(features["flags"]) - {
        "is_churned"
    }


def test_plausible_ranges_bound_declared_columns_and_are_ordered() -> None:
    columns = project.customer_columns()
    for column, (low, high) in project.plausible_ranges().items():
        assert column in columns and low < high, column


def test_each_format_maps_its_header_onto_every_canonical_column_once() -> None:
    canonical = {"customer_id", "city", "gender", *project.customer_columns()} - {"has_balance"}
    for name, spec in project.extract_formats().items():
        mapped = list(spec["columns"].values())
        assert sorted(mapped) == sorted(canonical), name
        assert spec["cities"] and spec["label_en"] and spec["label_ru"], name


def test_the_python_samples_and_the_dbt_macro_order_customers_by_the_same_key() -> None:
    """frames.SAMPLE_ORDER_SQL (Python steps) and the macro sample_order (SQL models) must be one expression."""
    import re

    from metanprom.settings import PROJECT_DIR
    from metanprom.statistics.frames import SAMPLE_ORDER_SQL

    macro = (PROJECT_DIR / "macros" / "utils" / "sample_order.sql").read_text(encoding="utf-8")
    body = re.search(r"macro default__sample_order\(column\) -%}\s*(.*?)\s*{%-? endmacro", macro, re.S).group(1)
    rendered = body.replace("{{ column }}", "customer_key").replace(
        "{{ var('random_seed') }}", str(project.random_seed())
    )
    assert rendered == SAMPLE_ORDER_SQL


def test_the_sampled_customers_hold_every_sample_the_python_steps_take() -> None:
    """int_customers_sampled holds var sample_customers customers per extract; the correlations use all of them,
    phik and the clusters their first rows: each sample must fit in it."""
    from metanprom.statistics.clusters import FIT_SAMPLE
    from metanprom.statistics.correlations import PHIK_SAMPLE_ROWS, SAMPLE_ROWS

    assert max(FIT_SAMPLE, PHIK_SAMPLE_ROWS) <= SAMPLE_ROWS


def test_the_spaces_forgiven_are_unicodes_space_separators_which_duckdbs_trim_removes() -> None:
    """var `space_separators` is Unicode's category Zs (Python's unicodedata), and exactly what DuckDB's trim()
    removes around a value, every code point tried: the staging on DuckDB (trim) and on Spark (the set given to
    its trim, macro trim_spaces) and the raw gate's patterns then forgive the same characters."""
    import unicodedata

    import duckdb

    declared = [ord(character) for character in project.space_separators()]
    space_separators = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"]
    trimmed = duckdb.sql(
        "select c from range(0, 1114112) as t(c)"
        " where (c < 55296 or c > 57343) and trim(chr(c::integer) || 'x' || chr(c::integer)) = 'x' order by c"
    ).fetchall()
    assert declared == space_separators == [row[0] for row in trimmed]
    assert "\t" not in project.space_separators() and "\n" not in project.space_separators()
