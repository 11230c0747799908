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
    return "\n".join(lines)
