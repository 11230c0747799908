"""The analytics marts on the shipped seeds and on the real extracts."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import DBT_TARGET
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from metanprom import project
from metanprom.settings import PROJECT_DIR
from metanprom.warehouse import connect

#: every test here builds a warehouse (or runs `metanprom run`)
pytestmark = pytest.mark.integration

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


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_portrait_means_and_medians_are_numpys_on_the_customers(which: str, request) -> None:
    """Every mean and median of churn_portrait against numpy on the customers' values (the medians come
    from counts of buckets and of the middle buckets' values; numpy sorts every value)."""
    warehouse = request.getfixturevalue(which)
    numeric = project.features()["numeric"]
    with connect(warehouse) as con:
        portrait = {
            (extract, feature, statistic): (churned, retained, everyone)
            for extract, feature, statistic, churned, retained, everyone in con.execute(
                "select extract, feature, statistic, churned_value, retained_value, all_value "
                "from churn_portrait where feature_type = 'numeric'"
            ).fetchall()
        }
        customers = con.execute(f"select extract, is_churned, {', '.join(numeric)} from customers").df()
    assert len(portrait) == 2 * 2 * len(numeric)
    for (extract, feature, statistic), got in portrait.items():
        rows = customers[customers["extract"] == extract]
        groups = (rows[rows["is_churned"]], rows[~rows["is_churned"]], rows)
        values = [g[feature].dropna().to_numpy(dtype=float) for g in groups]
        expected = [np.median(v) if statistic == "median" else np.mean(v) for v in values]
        assert got == pytest.approx(expected, rel=1e-12), (extract, feature, statistic)


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


def _holm_by_hand(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    return adjusted


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_segment_discovery_p_values_are_statsmodels_and_holm_by_hand(which: str, request) -> None:
    warehouse = request.getfixturevalue(which)
    for extract in ("bank_scrooge", "bank_dataset"):
        rows = _rows(
            warehouse,
            "select customers, churned, bank_customers, bank_churned, p_value, p_value_holm, is_significant, "
            f"churn_rate, bank_churn_rate from segment_discovery where extract = '{extract}'",
        )
        assert len(rows) > 50
        p = np.array([r[4] for r in rows])
        for customers, churned, bank_n, bank_c, p_value, *_ in rows[:: max(1, len(rows) // 60)]:
            _, reference = proportions_ztest([churned, bank_c - churned], [customers, bank_n - customers])
            assert p_value == pytest.approx(reference, rel=1e-9, abs=1e-300)
        np.testing.assert_allclose([r[5] for r in rows], _holm_by_hand(p), rtol=1e-12)
        assert [r[6] for r in rows] == [(r[5] < 0.05) and (r[7] > r[8]) for r in rows]


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_above_the_bank_rate_is_a_one_sided_test_against_the_rest_holm_per_scheme(which: str, request) -> None:
    """Recounted from customers with each segment's compiled rule, tested with statsmodels (one-sided), Holm
    by hand over the scheme's segments: not a Wilson bound against a bank rate that includes the segment."""
    warehouse = request.getfixturevalue(which)
    summary = _rows(
        warehouse,
        "select extract, scheme, segment_id, rule_sql, scheme_is_exclusive, customers, churned, p_value_vs_rest, "
        "p_value_vs_rest_holm, is_above_bank_rate, evidence from segment_summary order by extract, scheme, segment_id",
    )
    totals = {
        e: (n, c)
        for e, n, c in _rows(
            warehouse, "select extract, count(*), count(*) filter (where is_churned) from customers group by 1"
        )
    }
    by_family: dict[tuple, list] = {}
    for row in summary:
        by_family.setdefault(row[:2], []).append(row)
    for (extract, scheme), rows in by_family.items():
        n_bank, c_bank = totals[extract]
        references = []
        for _, _, segment_id, rule, exclusive, customers, churned, p, *_ in rows:
            if segment_id != "unassigned" and not exclusive:
                recount = _rows(
                    warehouse,
                    "select count(*), count(*) filter (where is_churned) from customers "
                    f"where extract = '{extract}' and ({rule})",
                )
                assert recount == [(customers, churned)], segment_id
            _, reference = proportions_ztest(
                [churned, c_bank - churned], [customers, n_bank - customers], alternative="larger"
            )
            references.append(reference)
            assert p == pytest.approx(reference, rel=1e-9, abs=1e-300), (scheme, segment_id)
        np.testing.assert_allclose([r[8] for r in rows], _holm_by_hand(np.array(references)), rtol=1e-9)
        assert [r[9] for r in rows] == [r[8] < 0.05 for r in rows]
    evidence = {(r[0], r[1]): r[10] for r in summary}
    assert evidence[("bank_scrooge", "products_age")].startswith("exploratory"), "where it was chosen is unknown"
    assert evidence[("bank_dataset", "consumption")].startswith("confirmatory")


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_segment_rules_are_every_definition_with_segment_summarys_rule(which: str, request) -> None:
    """hypothesis_results compiles a segment's members from int_segment_rules (from the definitions alone);
    segment_summary counts them with the rules int_segment_counts compiled. Both must agree, segment by segment,
    and int_segment_rules must hold each segment of the definitions file once."""
    warehouse = request.getfixturevalue(which)
    with open(PROJECT_DIR / "seeds" / "segment_definitions.csv", encoding="utf-8", newline="") as handle:
        defined = {
            (r["scheme"].strip(), r["segment_id"].strip(), int(r["precedence"]), r["scheme_is_exclusive"] == "true")
            for r in csv.DictReader(handle)
        }
    rules = _rows(
        warehouse, "select scheme, segment_id, precedence, scheme_is_exclusive, rule_sql from staging.int_segment_rules"
    )
    assert len(rules) == len(defined)
    assert {r[:4] for r in rules} == defined
    summary = set(
        _rows(
            warehouse,
            "select distinct scheme, segment_id, precedence, scheme_is_exclusive, rule_sql from segment_summary"
            " where segment_id <> 'unassigned'",
        )
    )
    assert len(summary) >= 10
    assert summary <= set(rules)


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


def test_every_customer_is_in_the_cluster_of_the_nearest_centre(shipped_warehouse: Path) -> None:
    """customer_clusters (assigned in SQL) against scikit-learn's nearest-centre search on the same centres,
    clusters numbered by size."""
    from sklearn.metrics import pairwise_distances_argmin

    from metanprom.statistics.clusters import FEATURE_SQL

    features = ", ".join(f"{sql} as {name}" for name, sql in FEATURE_SQL.items())
    with connect(shipped_warehouse) as con:
        for extract in ("bank_scrooge", "bank_dataset"):
            centres = con.execute(
                "select centre_index, feature, feature_mean, feature_scale, centre_standardised from cluster_centres"
                " where extract = ? order by centre_index",
                [extract],
            ).df()
            grid = centres.pivot(index="centre_index", columns="feature", values="centre_standardised")
            scaler = centres.drop_duplicates("feature").set_index("feature")
            names = list(FEATURE_SQL)
            customers = con.execute(
                f"select c.customer_key, k.cluster_id, {features} from customers as c"
                " join customer_clusters as k using (extract, customer_key) where extract = ? order by customer_key",
                [extract],
            ).df()
            x = (customers[names].to_numpy() - scaler.loc[names, "feature_mean"].to_numpy()) / scaler.loc[
                names, "feature_scale"
            ].to_numpy()
            nearest = pairwise_distances_argmin(x, grid[names].to_numpy())
            sizes = np.bincount(nearest, minlength=len(grid))
            by_size = np.empty(len(grid), dtype=int)
            by_size[np.argsort(-sizes, kind="stable")] = np.arange(1, len(grid) + 1)
            assert np.array_equal(customers["cluster_id"].to_numpy(), by_size[nearest]), extract


def test_unique_combination_test_reports_a_duplicate_and_only_it(shipped_warehouse: Path, tmp_path: Path) -> None:
    """The generic test groups by a hash first: it must still return exactly the repeated combination."""
    import re
    import shutil

    import duckdb

    from metanprom.pipeline import run_dbt

    test = "unique_combination_of_columns_customers_extract__customer_key"
    copy = tmp_path / "copy.duckdb"
    shutil.copy(shipped_warehouse, copy)
    # compiled here: the main build checks it inside column_rules, so no build compiles it on its own
    run_dbt(["compile", "--select", test], copy)
    compiled = sorted((DBT_TARGET / "compiled" / "metanprom").rglob(f"{test}.sql"))
    assert compiled, "dbt compiled no unique_combination_of_columns test on customers"
    # customers is a view: the test runs on a table copy of its rows, into which one row is inserted twice
    sql = re.sub(r'"[^"]+"\."main"\."customers"', "main.customers_copy", compiled[0].read_text(encoding="utf-8"))
    con = duckdb.connect(str(copy))
    try:
        con.execute("create table main.customers_copy as select * from main.customers")
        assert con.execute(sql).fetchall() == []
        con.execute("insert into main.customers_copy select * from main.customers order by customer_key limit 1")
        key = con.execute("select customer_key from main.customers order by customer_key limit 1").fetchall()[0][0]
        failing = con.execute(sql).fetchall()
    finally:
        con.close()
    assert [(row[1], row[-1]) for row in failing] == [(key, 2)]


def test_churn_by_feature_flags_values_above_the_rest_with_holm_over_the_extract(shipped_warehouse: Path) -> None:
    for extract in ("bank_scrooge", "bank_dataset"):
        rows = _rows(
            shipped_warehouse,
            "select customers, churned, p_value_vs_rest, p_value_vs_rest_holm, is_above_bank_rate "
            f"from churn_by_feature where extract = '{extract}'",
        )
        n_bank, c_bank = _rows(
            shipped_warehouse,
            f"select count(*), count(*) filter (where is_churned) from customers where extract = '{extract}'",
        )[0]
        references = []
        for customers, churned, p, *_ in rows:
            _, reference = proportions_ztest(
                [churned, c_bank - churned], [customers, n_bank - customers], alternative="larger"
            )
            assert p == pytest.approx(reference, rel=1e-9, abs=1e-300)
            references.append(reference)
        np.testing.assert_allclose([r[3] for r in rows], _holm_by_hand(np.array(references)), rtol=1e-9)
        assert [r[4] for r in rows] == [r[3] < 0.05 for r in rows]
        assert 0 < sum(r[4] for r in rows) < len(rows)


def test_discovery_selects_on_one_half_and_confirms_on_the_other(shipped_warehouse: Path) -> None:
    """Each half recounted from customers with the candidate's own rule and the key's md5, tested one-sided
    with statsmodels; Holm by hand over every candidate (selection) and over the selected (confirmation)."""
    extract = "bank_scrooge"
    rows = _rows(
        shipped_warehouse,
        "select segment_rule, customers, churned, customers_discovery, churned_discovery, p_value_discovery_holm, "
        "is_selected_on_discovery_half, p_value_confirmation, p_value_confirmation_holm, is_confirmed "
        f"from segment_discovery where extract = '{extract}' order by segment_rule",
    )
    seed = project.random_seed()

    def discovery_half(key: str) -> bool:
        # the halves worked here with hashlib: the first hex digit of md5(key|seed) below 8
        return hashlib.md5(f"{key}|{seed}".encode()).hexdigest() < "8"

    def counts(where: str) -> tuple[int, int]:
        """Customers and churners of the discovery half among those `where` holds."""
        found = _rows(shipped_warehouse, f"select customer_key, is_churned from customers where {where}")
        half = [churned for key, churned in found if discovery_half(key)]
        return len(half), sum(half)

    everyone = _rows(
        shipped_warehouse,
        f"select count(*), count(*) filter (where is_churned) from customers where extract = '{extract}'",
    )
    n0, c0 = counts(f"extract = '{extract}'")
    n1, c1 = everyone[0][0] - n0, everyone[0][1] - c0
    discovery_p, confirmation_p = [], []
    for rule, n, c, n_d, c_d, *_ in rows:
        if len(discovery_p) % 25 == 0:  # a sample of candidates recounted from customers
            assert counts(f"extract = '{extract}' and {rule}") == (n_d, c_d), rule
        discovery_p.append(proportions_ztest([c_d, c0 - c_d], [n_d, n0 - n_d], alternative="larger")[1])
        n_c, c_c = n - n_d, c - c_d
        confirmation_p.append(proportions_ztest([c_c, c1 - c_c], [n_c, n1 - n_c], alternative="larger")[1])
    np.testing.assert_allclose([r[5] for r in rows], _holm_by_hand(np.array(discovery_p)), rtol=1e-9, atol=1e-300)
    selected = [i for i, r in enumerate(rows) if r[5] < 0.05]
    assert [i for i, r in enumerate(rows) if r[6]] == selected and len(selected) > 10
    expected = _holm_by_hand(np.array([confirmation_p[i] for i in selected]))
    np.testing.assert_allclose([rows[i][8] for i in selected], expected, rtol=1e-9, atol=1e-300)
    assert all(r[7] is None or np.isnan(r[7]) for i, r in enumerate(rows) if i not in selected)
    assert [i for i, r in enumerate(rows) if r[9]] == [i for i, e in zip(selected, expected, strict=True) if e < 0.05]


def test_sample_order_is_the_first_60_bits_of_the_md5_of_key_and_seed(shipped_warehouse: Path) -> None:
    """Every customer's stored sample order, recomputed with Python's hashlib (not the macro that wrote it)."""
    seed = project.random_seed()
    rows = _rows(shipped_warehouse, "select customer_key, sample_order from customers")
    assert len(rows) > 10_000
    wrong = [
        (key, order) for key, order in rows if order != int(hashlib.md5(f"{key}|{seed}".encode()).hexdigest()[:15], 16)
    ]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_a_rule_chosen_on_the_discovery_half_is_confirmed_on_the_other(which: str, request) -> None:
    """The churn_prone rules were chosen on the discovery half of the real current extract. Each segment is
    recounted on the confirmation half (the key's md5 worked with hashlib: its first hex digit 8 or more) with
    its compiled rule, tested one-sided against the rest of that half with statsmodels, Holm by hand over the
    scheme's segments; the row's evidence follows that confirmation. Other schemes have no such figures."""
    warehouse = request.getfixturevalue(which)
    seed = project.random_seed()

    def counts(where: str) -> tuple[int, int]:
        """Customers and churners of bank_scrooge's confirmation half among those `where` holds."""
        found = _rows(
            warehouse, f"select customer_key, is_churned from customers where extract = 'bank_scrooge' and ({where})"
        )
        half = [churned for key, churned in found if hashlib.md5(f"{key}|{seed}".encode()).hexdigest() >= "8"]
        return len(half), sum(half)

    rows = _rows(
        warehouse,
        "select segment_id, rule_sql, confirmation_half_customers, confirmation_half_churned, "
        "p_value_confirmation_half, p_value_confirmation_half_holm, is_confirmed_on_confirmation_half, evidence "
        "from segment_summary where extract = 'bank_scrooge' and scheme = 'churn_prone' order by segment_id",
    )
    rules = [rule for segment_id, rule, *_ in rows if segment_id != "unassigned"]
    assert len(rules) == 4
    n_half, c_half = counts("true")
    references = []
    for segment_id, rule, n, c, p, *_ in rows:
        where = rule if segment_id != "unassigned" else " and ".join(f"not coalesce({r}, false)" for r in rules)
        assert counts(where) == (n, c), segment_id
        _, reference = proportions_ztest([c, c_half - c], [n, n_half - n], alternative="larger")
        references.append(reference)
        assert p == pytest.approx(reference, rel=1e-9, abs=1e-300), segment_id
    holm = _holm_by_hand(np.array(references))
    np.testing.assert_allclose([r[5] for r in rows], holm, rtol=1e-9, atol=1e-300)
    assert [r[6] for r in rows] == [h < 0.05 for h in holm]
    for segment_id, *_, confirmed, evidence in rows:
        assert evidence.startswith("confirmatory" if confirmed else "exploratory"), (segment_id, evidence)
    if which == "real_warehouse":  # on the data they were chosen for, the other half confirms all four
        assert [r[6] for r in rows if r[0] != "unassigned"] == [True] * 4
    others = _rows(
        warehouse,
        "select count(*) from segment_summary where scheme != 'churn_prone' and (confirmation_half_customers "
        "is not null or p_value_confirmation_half_holm is not null or is_confirmed_on_confirmation_half is not null)",
    )
    assert others == [(0,)]


@pytest.mark.parametrize("size", [500, 9_000])
def test_the_sample_is_each_extracts_first_customers_in_sample_order(
    size: int, shipped_warehouse: Path, tmp_path: Path
) -> None:
    """int_customers_sampled reads a sample smaller than the extract below a cut-off of sample_order (macro
    sample_cut_offs; 500 of 10,000: about 1,600 read), and a sample near the extract's size from every customer:
    either way its rows are each extract's first `size` in sample order, as pandas orders every customer."""
    import re
    import shutil

    from metanprom.pipeline import run_dbt
    from metanprom.sqltext import md5_cut_off

    copy = tmp_path / "copy.duckdb"
    shutil.copy(shipped_warehouse, copy)
    run_dbt(["run", "--select", "int_customers_sampled"], copy, {"sample_customers": size})
    compiled = DBT_TARGET / "run" / "metanprom" / "models" / "intermediate" / "int_customers_sampled.sql"
    cut_offs = re.findall(r"extract = '(\w+)' and sample_order < (\d+)", compiled.read_text(encoding="utf-8"))
    with connect(copy) as con:
        everyone = con.execute("select extract, customer_key, sample_order from staging.int_customers_banded").df()
        sampled = con.execute("select extract, customer_key from staging.int_customers_sampled").df()
    # the macro's cut-off is the one the Python steps compute for their samples (sqltext.md5_cut_off)
    sizes = everyone.groupby("extract").size().to_dict()
    expected = [(name, str(md5_cut_off(size, sizes[name]))) for name in sorted(sizes)] if size == 500 else []
    assert sorted(cut_offs) == expected
    first = everyone.sort_values(["sample_order", "customer_key"]).groupby("extract").head(size)
    assert sampled.groupby("extract").size().to_dict() == {"bank_dataset": size, "bank_scrooge": size}
    assert set(zip(sampled["extract"], sampled["customer_key"], strict=True)) == set(
        zip(first["extract"], first["customer_key"], strict=True)
    )


@pytest.mark.parametrize("which", ["shipped_warehouse", "real_warehouse"])
def test_segment_candidates_are_every_combination_of_up_to_three_features_counted_by_pandas(
    which: str, request: pytest.FixtureRequest
) -> None:
    """int_segment_candidates adds the cells up in blocks of features (macro combinations_in_blocks): its rows
    are still every combination of values of one to three discovery features with at least 300 customers, each
    once, with the counts pandas gives on the customers (all of them, and the discovery half's)."""
    from itertools import combinations

    warehouse = request.getfixturevalue(which)
    features = project.features()["categorical"]
    with connect(warehouse) as con:
        customers = con.execute(
            f"select extract, {', '.join(features)}, is_churned, sample_order from staging.int_customers_banded"
        ).df()
        candidates = con.execute(
            "select extract, feature_set, feature_count, customers, churned, customers_discovery, churned_discovery"
            " from staging.int_segment_candidates"
        ).fetchall()
    customers["discovery"] = customers["sample_order"] < 2**59  # the md5's first hexadecimal digit below 8
    customers["churned_discovery"] = customers["discovery"] & customers["is_churned"]
    expected = []
    for size in (1, 2, 3):
        for chosen in combinations(features, size):
            counts = customers.groupby(["extract", *chosen], dropna=False).agg(
                customers=("is_churned", "size"),
                churned=("is_churned", "sum"),
                customers_discovery=("discovery", "sum"),
                churned_discovery=("churned_discovery", "sum"),
            )
            for key, row in counts[counts["customers"] >= 300].iterrows():
                expected.append((key[0], " + ".join(chosen), size, *(int(v) for v in row)))
    assert len(expected) > 100
    assert sorted(candidates) == sorted(expected)
