"""A self-contained HTML report for the bank's manager, in English or Russian, drawn from the marts.

Every number shown is read from a mart and carries where it came from
(`data-mart`, `data-key`, `data-value` attributes), so a test can check each
one against the warehouse. Charts are drawn with matplotlib and embedded as
PNG; the page needs nothing but a browser. The page itself is the template
`templates/report.html.j2`; this module reads the marts, draws the charts and
holds the words in both languages.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import jinja2

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
        "so its churn and lift there describe, they do not prove. Confirmatory: the rule was fixed elsewhere, or "
        "chosen on one half of the customers and confirmed on the other half, which played no part in the choice.",
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
        "поэтому отток и лифт здесь описывают, но не доказывают. Подтверждающий: правило задано заранее или на другой выгрузке, "
        "либо подобрано на одной половине клиентов и подтверждено на другой, не участвовавшей в подборе.",
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


def pyplot():
    """matplotlib's pyplot on its file-only backend (Agg), loaded by the first chart: a process that only writes
    reports rendered elsewhere (`report_process`) never loads matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.1f}".replace(",", "\u202f")


def report_rows(warehouse: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of each mart the report shows, in the order it shows them."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {name: _rows(con, sql) for name, sql in QUERIES.items()}
    finally:
        con.close()


QUERIES = {
    "summary": "select * from extract_summary order by extract desc",
    "products": "select * from product_portraits order by extract desc, product_count",
    "portrait": "select * from churn_portrait where (feature_type = 'numeric' and statistic = 'mean') or "
    "(feature in ('gender', 'is_active', 'has_credit_card', 'has_balance') and feature_value in ('F', 'true')) "
    "order by extract desc, feature",
    "by_feature": "select * from churn_by_feature where feature in "
    "('age_band', 'credit_score_band', 'balance_band', 'estimated_salary_band', 'city', 'gender') "
    "order by extract desc, feature, value_order",
    "segments": "select * from segment_summary where segment_id <> 'unassigned' "
    "order by extract desc, scheme, priority_rank, segment_id",
    "hypotheses": "select * from hypothesis_results order by extract desc, family, hypothesis_id",
    # a total order: every engine gives the same page
    "quality": "select * from data_quality_summary where not success "
    "order by extract desc, severity, gate, check_name, column_name",
}
#: The features drawn as small multiples of churn by value.
CHART_FEATURES = ["age_band", "credit_score_band", "balance_band", "estimated_salary_band", "city", "gender"]


def charts(rows: dict[str, list[dict[str, Any]]], lang: str) -> dict[str, str]:
    """The report's two charts as embedded PNG <img> tags: churn by product count, churn by feature."""
    t, names, features = TEXT[lang], EXTRACT_NAMES[lang], FEATURE_NAMES[lang]
    summary, products, by_feature = rows["summary"], rows["products"], rows["by_feature"]
    extracts = [s["extract"] for s in summary]
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 3))
    width = 0.8 / max(len(extracts), 1)
    for i, e in enumerate(extracts):
        bars = [p for p in products if p["extract"] == e]
        ax.bar(
            [p["product_count"] + i * width for p in bars], [p["churn_rate"] * 100 for p in bars], width, label=names[e]
        )
    ax.set_xlabel(t["products"])
    ax.set_ylabel(t["churn_rate"] + ", %")
    ax.legend()
    by_products = _png(fig)

    fig, axes = plt.subplots(len(extracts), len(CHART_FEATURES), figsize=(16, 3.2 * len(extracts)), squeeze=False)
    for r, e in enumerate(extracts):
        bank = next(s["churn_rate"] for s in summary if s["extract"] == e)
        for c, feature in enumerate(CHART_FEATURES):
            bars = [b for b in by_feature if b["extract"] == e and b["feature"] == feature]
            ax = axes[r][c]
            ax.bar(range(len(bars)), [b["churn_rate"] * 100 for b in bars], color="#4c78a8")
            ax.axhline(bank * 100, color="#e45756", linewidth=1)
            ax.set_xticks(
                range(len(bars)),
                [str(b["feature_value"])[4:] if "band" in feature else str(b["feature_value"]) for b in bars],
                rotation=60,
                fontsize=7,
            )
            ax.set_title(f"{features.get(feature, feature)} ({names[e]})", fontsize=9)
    fig.tight_layout()
    return {"by_products": by_products, "by_feature": _png(fig)}


def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("metanprom.delivery", "templates"),
        autoescape=False,  # text is escaped where it is data, with esc (html.escape), as the numbers are by num
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("report.html.j2")


def render_report(rows: dict[str, list[dict[str, Any]]], lang: str, source: str) -> str:
    """The marts' rows (`report_rows`) and two charts rendered into templates/report.html.j2."""
    return _template().render(
        lang=lang,
        t=TEXT[lang],
        names=EXTRACT_NAMES[lang],
        features=FEATURE_NAMES[lang],
        charts=charts(rows, lang),
        warehouse=source,
        num=_num,
        pct=_pct,
        int=_int,
        number=_number,
        esc=html.escape,
        **rows,
    )


def write_report(warehouse: Path, lang: str, out_dir: Path | None = None) -> Path:
    """Write report_<lang>.html atomically; return its path."""
    return write_reports(warehouse, (lang,), out_dir)[0]


def render_reports(warehouse: Path, langs: tuple[str, ...], source: Path | None = None) -> dict[str, str]:
    """Each language's report, as HTML text, from the marts of `warehouse` (read once for all). `source`: the
    warehouse the reports name (default `warehouse`)."""
    for lang in langs:
        if lang not in TEXT:
            raise ValueError(f"unknown language {lang!r}; expected en or ru")
    rows = report_rows(warehouse)
    return {lang: render_report(rows, lang, str(source or warehouse)) for lang in langs}


def write_rendered(
    texts: dict[str, str], out_dir: Path | None = None, before_swap: Callable[[], None] | None = None
) -> list[Path]:
    """Write report_<lang>.html for each language's text (`render_reports`) atomically; return their paths.

    Each is written to a new file, renamed over the old one once every one is written and `before_swap` (if given)
    has returned; if anything raises before the renames, the new files go and every old one stays."""
    out_dir = Path(out_dir) if out_dir else output_dir() / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path]] = []
    try:
        for lang, text in texts.items():
            target = out_dir / f"report_{lang}.html"
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=out_dir)
            written.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
        if before_swap:
            before_swap()
        while written:
            tmp, target = written[0]
            os.replace(tmp, target)
            written.pop(0)
    finally:
        for tmp, _ in written:
            Path(tmp).unlink(missing_ok=True)
    return [out_dir / f"report_{lang}.html" for lang in texts]


def write_reports(
    warehouse: Path,
    langs: tuple[str, ...],
    out_dir: Path | None = None,
    source: Path | None = None,
    before_swap: Callable[[], None] | None = None,
) -> list[Path]:
    """Write report_<lang>.html for each language atomically (the marts read once for all); return their paths.

    Rendered here (`render_reports`), then written as `write_rendered` writes them. `source`: the warehouse the
    reports name (default `warehouse`; a run that reports on its new file before it is swapped in names where it
    goes)."""
    return write_rendered(render_reports(warehouse, langs, source), out_dir, before_swap)
