"""The short summary a run ends with: customers, quarantined rows and churn per extract."""

from __future__ import annotations

from pathlib import Path

from metanprom.warehouse import connect


def summary_text(warehouse: Path | None = None, inputs: dict[str, str] | None = None) -> str:
    """Customers per extract, quarantined rows per reason and churn rate per extract, as text."""
    with connect(warehouse) as con:
        extracts = con.execute(
            "select extract, rows_read, customers, rows_quarantined, churn_rate "
            "from main.extract_summary order by extract desc"
        ).fetchall()
        reasons = con.execute(
            "select extract, quarantine_reason, count(*) from main.customers_quarantined "
            "group by all order by extract desc, count(*) desc, quarantine_reason"
        ).fetchall()
        tables = {
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
        }
        clusters = (
            con.execute(
                "select extract, k, silhouette, bootstrap_stability_ari from main.cluster_selection "
                "where is_chosen order by extract desc"
            ).fetchall()
            if "cluster_selection" in tables
            else []
        )
        hypotheses = (
            con.execute(
                "select extract, count(*), count(*) filter (where reject_null) from main.hypothesis_results "
                "group by extract order by extract desc"
            ).fetchall()
            if "hypothesis_results" in tables
            else []
        )
    lines = [f"{'extract':<14}{'rows read':>12}{'customers':>12}{'quarantined':>13}{'churn rate':>12}"]
    for extract, rows_read, customers, quarantined, churn_rate in extracts:
        rate = f"{churn_rate * 100:.1f} %" if churn_rate is not None else "n/a"
        lines.append(f"{extract:<14}{rows_read:>12,}{customers:>12,}{quarantined:>13,}{rate:>12}")
    if inputs:
        lines.append("inputs:")
        lines += [f"  {name:<14}{source}" for name, source in inputs.items()]
    lines.append("quarantined rows by reason:")
    if reasons:
        lines += [f"  {extract:<14}{reason:<28}{count:>8,}" for extract, reason, count in reasons]
    else:
        lines.append("  none")
    for extract, k, silhouette, stability in clusters:
        lines.append(
            f"clusters:   {extract:<14}k = {k} chosen (silhouette {silhouette:.2f}, bootstrap ARI {stability:.2f})"
        )
    for extract, tested, rejected in hypotheses:
        lines.append(f"hypotheses: {extract:<14}{tested} tested, {rejected} significant after adjustment")
    return "\n".join(lines)
