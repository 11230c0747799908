"""The analytics marts on the shipped seeds and on the real extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from metanprom.warehouse import connect

MARTS = (
    "churn_portrait", "product_portraits", "churn_by_feature", "missing_balance_profile", "feature_correlations",
    "customer_segments", "segment_summary", "segment_overlap", "segment_comparison", "segment_cut_points",
    "segment_discovery", "cluster_selection", "customer_clusters", "cluster_profiles", "hypothesis_results",
)  # fmt: skip


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with connect(warehouse) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_every_mart_is_built_for_both_extracts(which: str, request: pytest.FixtureRequest) -> None:
    warehouse = request.getfixturevalue(which)
    # segment_comparison has the extracts as columns; segment_overlap covers non-exclusive schemes only.
    for mart in (m for m in MARTS if m not in ("segment_comparison", "segment_overlap")):
        extracts = {r[0] for r in _rows(warehouse, f"select distinct extract from {mart}")}
        assert extracts == {"bank_scrooge", "bank_dataset"}, mart


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_marts_reconcile_with_customers(which: str, request: pytest.FixtureRequest) -> None:
    warehouse = request.getfixturevalue(which)
    customers = dict(_rows(warehouse, "select extract, count(*) from customers group by extract"))
    for feature in ("city", "gender", "product_count", "age_band", "balance_band"):
        got = dict(
            _rows(
                warehouse,
                f"select extract, sum(customers) from churn_by_feature where feature = '{feature}' group by 1",
            )
        )
        assert got == customers, feature
    portraits = dict(_rows(warehouse, "select extract, sum(customers) from product_portraits group by 1"))
    assert portraits == customers
    exclusive = _rows(
        warehouse,
        "select extract, scheme, sum(customers) from segment_summary where scheme_is_exclusive group by 1, 2",
    )
    assert exclusive and all(total == customers[extract] for extract, _, total in exclusive)
    clusters = dict(_rows(warehouse, "select extract, sum(customers) from cluster_profiles group by 1"))
    assert clusters == customers


def test_products_age_on_the_real_older_extract_is_three_exclusive_segments(real_warehouse: Path) -> None:
    rows = _rows(
        real_warehouse,
        "select segment_id, customers from segment_summary "
        "where extract = 'bank_dataset' and scheme = 'products_age' order by precedence",
    )
    assert [r[0] for r in rows] == ["multi_product", "young_1_2_products", "older_1_2_products"]
    assert sum(r[1] for r in rows) == 10_000
    per_customer = _rows(
        real_warehouse,
        "select count(*), count(distinct customer_key), count(*) filter (where segment_id = 'unassigned') "
        "from customer_segments where extract = 'bank_dataset' and scheme = 'products_age'",
    )
    assert per_customer == [(10_000, 10_000, 0)]


def test_segment_discovery_on_the_real_current_extract(real_warehouse: Path) -> None:
    top = _rows(
        real_warehouse,
        "select customers, churn_rate, bank_churn_rate, p_value_holm, excess_churners, discovery_rank "
        "from segment_discovery where extract = 'bank_scrooge' and is_significant order by discovery_rank limit 10",
    )
    assert len(top) == 10
    assert [r[5] for r in top] == list(range(1, 11))
    for customers, churn, bank, p_holm, excess, _ in top:
        assert customers >= 300
        assert churn > bank
        assert p_holm < 0.05
        assert excess > 0
    assert [r[4] for r in top] == sorted((r[4] for r in top), reverse=True)


def test_churn_prone_segments_on_the_real_current_extract(real_warehouse: Path) -> None:
    rows = _rows(
        real_warehouse,
        "select segment_id, customers, churn_rate_ci_low, bank_churn_rate from segment_summary "
        "where extract = 'bank_scrooge' and scheme = 'churn_prone' and segment_id <> 'unassigned'",
    )
    assert len(rows) >= 3
    for segment_id, customers, ci_low, bank in rows:
        assert customers >= 300, segment_id
        assert ci_low > bank, segment_id


def test_cut_points_show_the_chosen_age_cut(real_warehouse: Path) -> None:
    rows = _rows(
        real_warehouse,
        "select extract, candidate_cut, customers_left, customers_right, p_value from segment_cut_points "
        "where scheme = 'products_age' and segment_id = 'young_1_2_products' and feature = 'age' and is_chosen_cut",
    )
    assert {r[0] for r in rows} == {"bank_scrooge", "bank_dataset"}
    for _, cut, left, right, p in rows:
        assert cut == 42
        assert left > 0 and right > 0
        assert 0 <= p <= 1


def test_wilson_interval_in_sql_matches_statsmodels(shipped_warehouse: Path) -> None:
    rows = _rows(
        shipped_warehouse, "select churned, customers, churn_rate_ci_low, churn_rate_ci_high from churn_by_feature"
    )
    churned = np.array([r[0] for r in rows])
    customers = np.array([r[1] for r in rows])
    low, high = proportion_confint(churned, customers, alpha=0.05, method="wilson")
    assert np.allclose([r[2] for r in rows], low, atol=1e-12)
    assert np.allclose([r[3] for r in rows], high, atol=1e-12)


def test_cluster_choice_is_recorded(shipped_warehouse: Path) -> None:
    chosen = _rows(shipped_warehouse, "select extract, k, silhouette from cluster_selection where is_chosen")
    assert {r[0] for r in chosen} == {"bank_scrooge", "bank_dataset"}
    for extract, k, silhouette in chosen:
        best = _rows(shipped_warehouse, f"select max(silhouette) from cluster_selection where extract = '{extract}'")
        assert silhouette == best[0][0]
        clusters = _rows(shipped_warehouse, f"select count(*) from cluster_profiles where extract = '{extract}'")
        assert clusters[0][0] == k


def test_unique_combination_test_reports_a_duplicate_and_only_it(shipped_warehouse: Path, tmp_path: Path) -> None:
    """The generic test groups by a hash first: it must still return exactly the repeated combination."""
    import re
    import shutil

    import duckdb

    from metanprom.settings import PROJECT_DIR

    compiled = sorted(
        (PROJECT_DIR / "target" / "compiled" / "metanprom").rglob(
            "unique_combination_of_columns_customers_extract__customer_key.sql"
        )
    )
    assert compiled, "dbt compiled no unique_combination_of_columns test on customers"
    sql = re.sub(r'"[^"]+"\."main"\."customers"', "main.customers", compiled[0].read_text(encoding="utf-8"))
    copy = tmp_path / "copy.duckdb"
    shutil.copy(shipped_warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        assert con.execute(sql).fetchall() == []
        con.execute("insert into main.customers select * from main.customers order by customer_key limit 1")
        key = con.execute("select customer_key from main.customers order by customer_key limit 1").fetchall()[0][0]
        failing = con.execute(sql).fetchall()
    finally:
        con.close()
    assert [(row[1], row[-1]) for row in failing] == [(key, 2)]
