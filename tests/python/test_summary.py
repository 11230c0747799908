"""The run's closing summary, from a small warehouse built here (no dbt)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from metanprom.delivery.summary import summary_text


def _warehouse(path: Path, with_statistics: bool) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table extract_summary as select * from (values "
            "('bank_scrooge', 10000, 9969, 31, 0.18234), ('bank_dataset', 10000, 10000, 0, 0.2037)) "
            "as t(extract, rows_read, customers, rows_quarantined, churn_rate)"
        )
        con.execute(
            "create table customers_quarantined as select * from (values "
            "('bank_scrooge', 'missing_age'), ('bank_scrooge', 'missing_age'), ('bank_scrooge', 'duplicate_key')) "
            "as t(extract, quarantine_reason)"
        )
        if with_statistics:
            con.execute(
                "create table cluster_selection as select * from (values ('bank_scrooge', 4, 0.2345, 0.91, true)) "
                "as t(extract, k, silhouette, bootstrap_stability_ari, is_chosen)"
            )
            con.execute(
                "create table hypothesis_results as select * from (values "
                "('bank_scrooge', true), ('bank_scrooge', false), ('bank_scrooge', true)) as t(extract, reject_null)"
            )
    return path


def test_the_summary_lists_each_extract_and_each_quarantine_reason(tmp_path: Path) -> None:
    text = summary_text(_warehouse(tmp_path / "w.duckdb", with_statistics=True), {"bank_scrooge": "my.csv"})
    lines = text.splitlines()
    assert lines[1].split() == ["bank_scrooge", "10,000", "9,969", "31", "18.2", "%"]
    assert lines[2].split() == ["bank_dataset", "10,000", "10,000", "0", "20.4", "%"]
    assert "  bank_scrooge  my.csv" in text
    # reasons: most frequent first
    reasons = [line.split() for line in lines if line.startswith("  bank_scrooge") and "my.csv" not in line]
    assert reasons == [["bank_scrooge", "missing_age", "2"], ["bank_scrooge", "duplicate_key", "1"]]
    assert "k = 4 chosen (silhouette 0.23, bootstrap ARI 0.91)" in text
    assert "hypotheses: bank_scrooge  3 tested, 2 significant after adjustment" in text


def test_a_warehouse_without_statistics_still_gets_its_summary(tmp_path: Path) -> None:
    text = summary_text(_warehouse(tmp_path / "w.duckdb", with_statistics=False))
    assert "clusters:" not in text and "hypotheses:" not in text
    assert "inputs:" not in text
