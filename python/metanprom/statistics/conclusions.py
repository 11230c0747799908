"""The words of a result: one sentence of conclusion in English and Russian, and the CLI's results table."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from metanprom.statistics.registry import Hypothesis


def _fmt(value: float, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "binary":
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}".replace(",", " ") if abs(value) >= 100 else f"{value:.2f}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.0001 else "< 0.0001"


def _p_phrase(p: float) -> str:
    return f"= {p:.2g}" if p >= 0.0001 else "< 0.0001"


def conclusions(h: Hypothesis, row: dict[str, Any]) -> tuple[str, str]:
    """One sentence in English and one in Russian."""
    kind = row["measure_kind"]
    if kind == "binary":
        va, vb, what_en, what_ru = row["proportion_a"], row["proportion_b"], "", ""
    elif row["test"] == "welch_t":
        va, vb, what_en, what_ru = row["mean_a"], row["mean_b"], "mean ", "среднее: "
    elif kind == "continuous":
        va, vb, what_en, what_ru = row["median_a"], row["median_b"], "median ", "медиана: "
    else:
        va = vb = float("nan")
        what_en = what_ru = ""
    a_en, b_en, a_ru, b_ru = h.a.label_en, h.b.label_en, h.a.label_ru, h.b.label_ru
    p = _p_phrase(row["p_value_adjusted"])
    shown = f"{what_en}{_fmt(va, kind)} vs {_fmt(vb, kind)}"
    shown_ru = f"{what_ru}{_fmt(va, kind)} против {_fmt(vb, kind)}"
    if row["reject_null"]:
        if kind == "categorical":
            return (
                f"The distribution of {h.measure_en} differs between {a_en} and {b_en} (adjusted p {p}).",
                f"Распределение показателя «{h.measure_ru}» различается у групп «{a_ru}» и «{b_ru}» "
                f"(скорректированное p {p}).",
            )
        # The direction is the effect's (difference in proportions, Cliff's delta, difference in means: all a minus b),
        # never the medians': tied medians say nothing of which group is higher.
        effect = row.get("effect_size")
        if effect is None or math.isnan(effect) or effect == 0:
            return (
                f"{h.measure_en.capitalize()} differs between {a_en} and {b_en} ({shown}); "
                f"the difference is significant (adjusted p {p}).",
                f"Показатель «{h.measure_ru}» различается у групп «{a_ru}» и «{b_ru}» ({shown_ru}); "
                f"различие статистически значимо (скорректированное p {p}).",
            )
        direction_en = "higher" if effect > 0 else "lower"
        direction_ru = "выше" if effect > 0 else "ниже"
        return (
            f"{h.measure_en.capitalize()} is {direction_en} among {a_en} than among {b_en} ({shown}); "
            f"the difference is significant (adjusted p {p}).",
            f"Показатель «{h.measure_ru}» у группы «{a_ru}» {direction_ru}, чем у группы «{b_ru}» ({shown_ru}); "
            f"различие статистически значимо (скорректированное p {p}).",
        )
    return (
        f"No significant difference in {h.measure_en} between {a_en} and {b_en} ({shown}, adjusted p {p}).",
        f"Значимого различия в показателе «{h.measure_ru}» между группами «{a_ru}» и «{b_ru}» нет "
        f"({shown_ru}, скорректированное p {p}).",
    )


EFFECT_LABELS = {
    "cliffs_delta": "Cliff's delta",
    "mean_difference": "diff. in means",
    "difference_in_proportions": "diff. in shares",
    "cramers_v": "Cramer's V",
}


def results_table(frame: pd.DataFrame) -> str:
    """A readable fixed-width table of results."""
    lines = [
        f"{'hypothesis':<36}{'extract':<14}{'test':<18}{'n a':>8}{'n b':>8}{'p adj':>10}  "
        f"{'effect (95 % CI)':<46}decision"
    ]
    for r in frame.to_dict("records"):
        if r["status"] != "tested":
            lines.append(f"{r['hypothesis_id']:<36}{r['extract']:<14}{r['status']}")
            continue
        ci = (
            f"[{r['effect_size_ci_low']:.3f}, {r['effect_size_ci_high']:.3f}]"
            if not pd.isna(r["effect_size_ci_low"])
            else ""
        )
        effect = f"{EFFECT_LABELS.get(r['effect_size_name'], r['effect_size_name'])} {r['effect_size']:.3f} {ci}"
        decision = "reject H0" if r["reject_null"] else "keep H0"
        lines.append(
            f"{r['hypothesis_id']:<36}{r['extract']:<14}{r['test']:<18}{r['n_a']:>8}{r['n_b']:>8}"
            f"{_p(r['p_value_adjusted']):>10}  {effect:<46}{decision}"
        )
    return "\n".join(lines)
