"""A self-contained HTML report for the bank's manager, in English or Russian, drawn from the marts.

Every number shown is read from a mart and carries where it came from
(`data-mart`, `data-key`, `data-value` attributes), so a test can check each
one against the warehouse. Charts are drawn with matplotlib and embedded as
PNG; the page needs nothing but a browser.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from metanprom import project
from metanprom.ingest.formats import FORMATS
from metanprom.settings import output_dir

EXTRACT_NAMES = {lang: {name: getattr(fmt, f"label_{lang}") for name, fmt in FORMATS.items()} for lang in ("en", "ru")}
FEATURE_NAMES = {lang: project.feature_labels(lang) for lang in ("en", "ru")}
TEXT = {
    "en": {
        "title": "Metanprom bank: who is leaving and why",
        "headline": "Headline figures",
        "extract": "Extract", "customers": "Customers", "churned": "Left", "churn_rate": "Churn rate",
        "quarantined": "Rows set aside",
        "by_products": "Churn by number of products",
        "products": "Products", "share": "Share of customers",
        "portrait": "The typical churner",
        "portrait_note": "Mean or share among customers who left vs who stayed; relative difference.",
        "feature": "Feature", "value": "Value", "left": "Left", "stayed": "Stayed", "difference": "Difference",
        "by_feature": "Churn by feature",
        "segments": "Segments and what to offer",
        "segment": "Segment", "lift": "Lift", "excess": "Excess leavers", "priority": "Priority", "offer": "Offer",
        "scheme": "Scheme", "evidence": "Evidence",
        "exploratory": "exploratory", "confirmatory": "confirmatory",
        "evidence_note": "Exploratory: the rule was chosen on this extract (or where it was chosen is not recorded), "
        "so its churn and lift there describe, they do not prove. Confirmatory: the rule was fixed elsewhere.",
        "hypotheses": "What the tests say",
        "quality": "Data quality",
        "quality_note": "Checks of the raw extracts (Great Expectations) and rows set aside by the build.",
        "check": "Check", "severity": "Severity", "rows": "Rows",
        "bank_rate": "bank's churn rate",
        "generated": "Generated from the warehouse",
        "passed_all": "All raw-extract checks passed.",
    },
    "ru": {
        "title": "Банк «Метанпром»: кто уходит и почему",
        "headline": "Основные показатели",
        "extract": "Выгрузка", "customers": "Клиенты", "churned": "Ушли", "churn_rate": "Отток",
        "quarantined": "Отложено строк",
        "by_products": "Отток по числу продуктов",
        "products": "Продукты", "share": "Доля клиентов",
        "portrait": "Портрет уходящего клиента",
        "portrait_note": "Среднее или доля среди ушедших и оставшихся; относительная разница.",
        "feature": "Признак", "value": "Значение", "left": "Ушли", "stayed": "Остались", "difference": "Разница",
        "by_feature": "Отток по признакам",
        "segments": "Сегменты и что предложить",
        "segment": "Сегмент", "lift": "Лифт", "excess": "Сверх среднего", "priority": "Приоритет",
        "offer": "Предложение", "scheme": "Схема", "evidence": "Доказательность",
        "exploratory": "разведочный", "confirmatory": "подтверждающий",
        "evidence_note": "Разведочный: правило подобрано на этой выгрузке (или где оно подобрано, не записано), "
        "поэтому отток и лифт здесь описывают, но не доказывают. Подтверждающий: правило задано заранее или на другой выгрузке.",
        "hypotheses": "Что показали проверки гипотез",
        "quality": "Качество данных",
        "quality_note": "Проверки исходных выгрузок (Great Expectations) и строки, отложенные при сборке.",
        "check": "Проверка", "severity": "Важность", "rows": "Строк",
        "bank_rate": "средний отток банка",
        "generated": "Построено по витринам хранилища",
        "passed_all": "Все проверки исходных выгрузок пройдены.",
    },
}  # fmt: skip


def _num(mart: str, key: str, value: Any, shown: str) -> str:
    """A number with where it came from, for the reader and for the test."""
    raw = "" if value is None else repr(float(value)) if isinstance(value, float) else str(value)
    return (
        f'<span class="num" data-mart="{html.escape(mart)}" data-key="{html.escape(key)}" '
        f'data-value="{html.escape(raw)}">{html.escape(shown)}</span>'
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f} %"


def _int(x: int | None) -> str:
    return "n/a" if x is None else f"{x:,}".replace(",", "\u202f")


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def build_report(warehouse: Path, lang: str) -> str:
    """The report as one HTML string."""
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r}; expected en or ru")
    t, names, features = TEXT[lang], EXTRACT_NAMES[lang], FEATURE_NAMES[lang]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        summary = _rows(con, "select * from extract_summary order by extract desc")
        products = _rows(con, "select * from product_portraits order by extract desc, product_count")
        portrait = _rows(
            con,
            "select * from churn_portrait where (feature_type = 'numeric' and statistic = 'mean') or "
            "(feature in ('gender', 'is_active', 'has_credit_card', 'has_balance') and feature_value in ('F', 'true')) "
            "order by extract desc, feature",
        )
        by_feature = _rows(
            con,
            "select * from churn_by_feature where feature in "
            "('age_band', 'credit_score_band', 'balance_band', 'estimated_salary_band', 'city', 'gender') "
            "order by extract desc, feature, value_order",
        )
        segments = _rows(
            con,
            "select * from segment_summary where segment_id <> 'unassigned' "
            "order by extract desc, scheme, priority_rank",
        )
        hypotheses = _rows(con, "select * from hypothesis_results order by extract desc, family, hypothesis_id")
        quality = _rows(con, "select * from data_quality_summary where not success order by extract desc, severity")
    finally:
        con.close()

    parts = [f"<h1>{html.escape(t['title'])}</h1>"]

    # headline
    parts.append(f"<h2>{t['headline']}</h2><table><tr><th>{t['extract']}</th><th>{t['customers']}</th>")
    parts.append(f"<th>{t['churned']}</th><th>{t['churn_rate']}</th><th>{t['quarantined']}</th></tr>")
    for s in summary:
        e = s["extract"]
        parts.append(
            f"<tr><td>{names[e]}</td><td>{_num('extract_summary', f'{e}|customers', s['customers'], _int(s['customers']))}</td>"
            f"<td>{_num('extract_summary', f'{e}|churned_customers', s['churned_customers'], _int(s['churned_customers']))}</td>"
            f"<td>{_num('extract_summary', f'{e}|churn_rate', s['churn_rate'], _pct(s['churn_rate']))}</td>"
            f"<td>{_num('extract_summary', f'{e}|rows_quarantined', s['rows_quarantined'], _int(s['rows_quarantined']))}</td></tr>"
        )
    parts.append("</table>")

    # churn by products: chart and table
    fig, ax = plt.subplots(figsize=(7, 3))
    extracts = [s["extract"] for s in summary]
    width = 0.8 / max(len(extracts), 1)
    for i, e in enumerate(extracts):
        rows = [p for p in products if p["extract"] == e]
        ax.bar(
            [p["product_count"] + i * width for p in rows], [p["churn_rate"] * 100 for p in rows], width, label=names[e]
        )
    ax.set_xlabel(t["products"])
    ax.set_ylabel(t["churn_rate"] + ", %")
    ax.legend()
    parts.append(f"<h2>{t['by_products']}</h2>{_png(fig)}")
    parts.append(f"<table><tr><th>{t['extract']}</th><th>{t['products']}</th><th>{t['customers']}</th>")
    parts.append(f"<th>{t['share']}</th><th>{t['churn_rate']}</th></tr>")
    for p in products:
        key = f"{p['extract']}|{p['product_count']}"
        parts.append(
            f"<tr><td>{names[p['extract']]}</td><td>{p['product_count']}</td>"
            f"<td>{_num('product_portraits', key + '|customers', p['customers'], _int(p['customers']))}</td>"
            f"<td>{_num('product_portraits', key + '|share_of_customers', p['share_of_customers'], _pct(p['share_of_customers']))}</td>"
            f"<td>{_num('product_portraits', key + '|churn_rate', p['churn_rate'], _pct(p['churn_rate']))}</td></tr>"
        )
    parts.append("</table>")

    # portrait
    parts.append(f"<h2>{t['portrait']}</h2><p>{t['portrait_note']}</p>")
    parts.append(f"<table><tr><th>{t['extract']}</th><th>{t['feature']}</th><th>{t['left']}</th>")
    parts.append(f"<th>{t['stayed']}</th><th>{t['difference']}</th></tr>")
    for p in portrait:
        key = f"{p['extract']}|{p['feature']}|{p['statistic']}|{p['feature_value']}"
        share = p["statistic"] == "share"
        label = features.get(p["feature"], p["feature"]) + (f" = {p['feature_value']}" if share else "")

        def fmt(v: float | None, share: bool = share) -> str:
            return _pct(v) if share else ("n/a" if v is None else f"{v:,.1f}".replace(",", "\u202f"))

        parts.append(
            f"<tr><td>{names[p['extract']]}</td><td>{html.escape(label)}</td>"
            f"<td>{_num('churn_portrait', key + '|churned_value', p['churned_value'], fmt(p['churned_value']))}</td>"
            f"<td>{_num('churn_portrait', key + '|retained_value', p['retained_value'], fmt(p['retained_value']))}</td>"
            f"<td>{_num('churn_portrait', key + '|relative_difference', p['relative_difference'], _pct(p['relative_difference']))}</td></tr>"
        )
    parts.append("</table>")

    # churn by feature: small multiples
    chosen = ["age_band", "credit_score_band", "balance_band", "estimated_salary_band", "city", "gender"]
    fig, axes = plt.subplots(len(extracts), len(chosen), figsize=(16, 3.2 * len(extracts)), squeeze=False)
    for r, e in enumerate(extracts):
        bank = next(s["churn_rate"] for s in summary if s["extract"] == e)
        for c, feature in enumerate(chosen):
            rows = [b for b in by_feature if b["extract"] == e and b["feature"] == feature]
            ax = axes[r][c]
            ax.bar(range(len(rows)), [b["churn_rate"] * 100 for b in rows], color="#4c78a8")
            ax.axhline(bank * 100, color="#e45756", linewidth=1)
            ax.set_xticks(
                range(len(rows)),
                [str(b["feature_value"])[4:] if "band" in feature else str(b["feature_value"]) for b in rows],
                rotation=60,
                fontsize=7,
            )
            ax.set_title(f"{features.get(feature, feature)} ({names[e]})", fontsize=9)
    fig.tight_layout()
    parts.append(f"<h2>{t['by_feature']}</h2><p>— {t['bank_rate']}</p>{_png(fig)}")

    # segments
    parts.append(f"<h2>{t['segments']}</h2><table><tr><th>{t['extract']}</th><th>{t['scheme']}</th>")
    parts.append(f"<th>{t['segment']}</th><th>{t['customers']}</th><th>{t['churn_rate']}</th><th>{t['lift']}</th>")
    parts.append(f"<th>{t['excess']}</th><th>{t['priority']}</th><th>{t['offer']}</th><th>{t['evidence']}</th></tr>")
    for s in segments:
        key = f"{s['extract']}|{s['scheme']}|{s['segment_id']}"
        name = s["segment_name_ru"] if lang == "ru" else s["segment_name"]
        offer = s["offer_ru"] if lang == "ru" else s["offer_en"]
        lift, excess = f"{s['lift']:.2f}", f"{s['excess_churners']:+.0f}"
        parts.append(
            f"<tr><td>{names[s['extract']]}</td><td>{html.escape(s['scheme'])}</td><td>{html.escape(name or '')}</td>"
            f"<td>{_num('segment_summary', key + '|customers', s['customers'], _int(s['customers']))}</td>"
            f"<td>{_num('segment_summary', key + '|churn_rate', s['churn_rate'], _pct(s['churn_rate']))}</td>"
            f"<td>{_num('segment_summary', key + '|lift', s['lift'], lift)}</td>"
            f"<td>{_num('segment_summary', key + '|excess_churners', s['excess_churners'], excess)}</td>"
            f"<td>{_num('segment_summary', key + '|priority_rank', s['priority_rank'], str(s['priority_rank']))}</td>"
            f"<td>{html.escape(offer or '')}</td><td>{t[s['evidence'].split(':')[0]]}</td></tr>"
        )
    parts.append(f"</table><p>{t['evidence_note']}</p>")

    # hypotheses in plain words
    parts.append(f"<h2>{t['hypotheses']}</h2><ul>")
    for h in hypotheses:
        sentence = h["conclusion_ru"] if lang == "ru" else h["conclusion_en"]
        kind = f" <i>({t['exploratory']})</i>" if h["evidence"] == "exploratory" else ""
        parts.append(f"<li><b>{names[h['extract']]}</b>: {html.escape(sentence)}{kind}</li>")
    parts.append(f"</ul><p>{t['evidence_note']}</p>")

    # quality
    parts.append(f"<h2>{t['quality']}</h2><p>{t['quality_note']}</p>")
    if quality:
        parts.append(
            f"<table><tr><th>{t['extract']}</th><th>{t['check']}</th><th>{t['severity']}</th><th>{t['rows']}</th></tr>"
        )
        for q in quality:
            key = f"{q['extract']}|{q['gate']}|{q['check_name']}|{q['column_name']}"
            parts.append(
                f"<tr><td>{names.get(q['extract'], q['extract'])}</td>"
                f"<td>{html.escape(q['check_name'])}{' [' + html.escape(q['column_name']) + ']' if q['column_name'] else ''}</td>"
                f"<td>{q['severity']}</td>"
                f"<td>{_num('data_quality_summary', key + '|affected_rows', q['affected_rows'], _int(q['affected_rows']))}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(f"<p>{t['passed_all']}</p>")

    parts.append(f"<footer>{t['generated']}: {html.escape(str(warehouse))}</footer>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px}"
        "th{background:#f3f3f3;text-align:left}img{max-width:100%}h2{margin-top:1.6em}footer{color:#777;margin-top:2em}"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(t["title"])}</title>'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_report(warehouse: Path, lang: str, out_dir: Path | None = None) -> Path:
    """Write report_<lang>.html atomically; return its path."""
    out_dir = Path(out_dir) if out_dir else output_dir() / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    text = build_report(warehouse, lang)
    target = out_dir / f"report_{lang}.html"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target
