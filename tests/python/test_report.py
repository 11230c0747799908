"""The report's template, without a build: every figure carries its source, text from the marts is escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metanprom.delivery.report import render_report, write_reports


def _rows() -> dict[str, list[dict[str, object]]]:
    summary = {"extract": "bank_scrooge", "customers": 1200, "churned_customers": 216, "churn_rate": 0.18}
    summary |= {"rows_quarantined": 3}
    return {
        "summary": [summary],
        "products": [
            {"extract": "bank_scrooge", "product_count": 1, "customers": 700, "share_of_customers": 700 / 1200}
            | {"churn_rate": 0.1},
            {"extract": "bank_scrooge", "product_count": 2, "customers": 500, "share_of_customers": 500 / 1200}
            | {"churn_rate": 0.292},
        ],
        "portrait": [
            {"extract": "bank_scrooge", "feature": "age", "statistic": "mean", "feature_value": None}
            | {"churned_value": 41.25, "retained_value": 43.5, "relative_difference": -0.0517},
        ],
        "by_feature": [{"extract": "bank_scrooge", "feature": "city", "feature_value": "Yaroslavl", "churn_rate": 0.2}],
        "segments": [
            {
                "extract": "bank_scrooge",
                "scheme": "churn_prone",
                "segment_id": "s1",
                "segment_name": "Men <35 & active",
                "segment_name_ru": "Мужчины <35",
                "customers": 150,
                "churn_rate": 0.3,
                "lift": 1.6667,
                "excess_churners": 18.0,
                "priority_rank": 1,
                "offer_en": "Cashback <5 %>",
                "offer_ru": "Кэшбэк",
                "evidence": "exploratory: rule chosen on this extract",
            }
        ],
        "hypotheses": [
            {"extract": "bank_scrooge", "conclusion_en": "Churn differs (p < 0.001).", "conclusion_ru": "Отток <иной>."}
            | {"evidence": "confirmatory"}
        ],
        "quality": [],
    }


def test_every_figure_carries_its_mart_key_and_value() -> None:
    page = render_report(_rows(), "en", "/tmp/w.duckdb")
    assert (
        '<span class="num" data-mart="extract_summary" data-key="bank_scrooge|customers" '
        'data-value="1200">1\u202f200</span>' in page
    )
    assert 'data-key="bank_scrooge|churn_rate" data-value="0.18">18.0 %</span>' in page
    assert 'data-key="bank_scrooge|churn_prone|s1|lift" data-value="1.6667">1.67</span>' in page
    assert 'data-key="bank_scrooge|churn_prone|s1|excess_churners" data-value="18.0">+18</span>' in page
    shown = re.findall(r'data-mart="([a-z_]+)"', page)
    assert set(shown) == {"extract_summary", "product_portraits", "churn_portrait", "segment_summary"}
    assert page.count("<img") == 2, "two charts, embedded"
    assert "All raw-extract checks passed." in page


def test_text_from_the_marts_is_escaped_and_the_language_is_the_one_asked_for() -> None:
    english = render_report(_rows(), "en", "/tmp/<w>.duckdb")
    assert "Men &lt;35 &amp; active" in english and "Men <35" not in english
    assert "Cashback &lt;5 %&gt;" in english
    assert "/tmp/&lt;w&gt;.duckdb" in english
    assert "(exploratory)" not in english.split("What the tests say")[1].split("</ul>")[0], "a confirmatory result"
    russian = render_report(_rows(), "ru", "/tmp/w.duckdb")
    assert '<html lang="ru">' in russian
    assert "Отток &lt;иной&gt;." in russian
    assert "текущая выгрузка" in russian


def test_an_unknown_language_is_refused_before_any_mart_is_read_or_report_written(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report_en.html").write_text("old", encoding="utf-8")
    # no warehouse at that path: the language is refused before it would be opened
    with pytest.raises(ValueError, match=r"unknown language 'de'; expected en or ru"):
        write_reports(tmp_path / "no_such.duckdb", ("en", "de"), out)
    assert [p.name for p in out.iterdir()] == ["report_en.html"]
    assert (out / "report_en.html").read_text(encoding="utf-8") == "old"
