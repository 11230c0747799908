"""The hypothesis registry: where it lives, its entries and their validation.

The registry is the `hypothesis_results` model's `config.meta.registry`
(models/marts/hypotheses/_hypotheses__models.yml), where dbt's docs, manifest
and `state:modified` see it. Every error names the file, the hypothesis and
the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR

TESTS = ("auto", "mann_whitney", "welch_t", "two_proportion_z", "chi_square")
EXTRACTS = tuple(FORMATS)


class RegistryError(ValueError):
    """The registry file is not valid; the message names the file, the entry and the field."""


@dataclass
class Group:
    #: SQL over `customers` (empty for a segment group, whose SQL is compiled from the segment's rules)
    where: str
    label_en: str
    label_ru: str
    #: (scheme, segment_id) of a segment group (its members, or with `rest` everyone else); None for a `where`
    segment: tuple[str, str] | None = None
    rest: bool = False


@dataclass
class Hypothesis:
    id: str
    question_en: str
    question_ru: str
    extracts: list[str]
    measure: str
    measure_en: str
    measure_ru: str
    a: Group
    b: Group
    test: str
    alpha: float
    family: str
    measure_value: str | None = None
    #: "two-sided", or "greater": the question asks whether group a is higher than b
    alternative: str = "two-sided"
    #: extracts this hypothesis was formed on by looking at them: its results there are exploratory
    exploratory_on: tuple[str, ...] = ()


@dataclass
class Registry:
    path: str
    correction: str
    hypotheses: list[Hypothesis] = field(default_factory=list)

    def get(self, hypothesis_id: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.id == hypothesis_id:
                return h
        raise RegistryError(
            f"{self.path}: no hypothesis with id {hypothesis_id!r}; known: {', '.join(h.id for h in self.hypotheses)}"
        )


#: The registry lives in the `hypothesis_results` model's properties (`config.meta.registry`), where dbt
#: sees it: in the docs, the manifest and `state:modified`.
REGISTRY_FILE = PROJECT_DIR / "models" / "marts" / "hypotheses" / "_hypotheses__models.yml"
REGISTRY_MODEL = "hypothesis_results"


#: The segment of the customers no rule of a scheme holds for.
UNASSIGNED = "unassigned"


def segment_membership(rules: list[tuple[str, int, str]], exclusive: bool, segment: str) -> str:
    """SQL over `customers`: true when the customer counts in `segment`, as `segment_summary` counts it.

    `rules`: the scheme's (segment_id, precedence, rule SQL) as `segment_summary` holds them. In an
    exclusive scheme a customer is in the first segment (by precedence) whose rule holds; in an overlapping
    one, in every segment whose rule holds; `unassigned` when none holds. A rule that is null (a missing
    value) does not hold. Never null itself, so `not (...)` is everyone else."""
    ordered = sorted(rules, key=lambda r: r[1])
    known = [r[0] for r in ordered]
    if segment == UNASSIGNED:
        return "(" + " and ".join(f"not coalesce(({rule}), false)" for _, _, rule in ordered) + ")"
    if segment not in known:
        raise RegistryError(f"segment {segment!r} is not defined; the scheme has {', '.join(known)}")
    index = known.index(segment)
    parts = [f"coalesce(({ordered[index][2]}), false)"]
    if exclusive:
        parts += [f"not coalesce(({rule}), false)" for _, _, rule in ordered[:index]]
    return "(" + " and ".join(parts) + ")"


def _group(path: str, hid: str, name: str, spec: Any) -> Group:
    where_ = f"{path}: hypothesis {hid!r}, group {name}"
    if not isinstance(spec, dict):
        raise RegistryError(f"{where_}: expected a mapping with where (or segment), label_en, label_ru")
    for key in ("label_en", "label_ru"):
        if not spec.get(key):
            raise RegistryError(f"{where_}: missing {key}")
    if "segment" in spec:
        seg = spec["segment"]
        if not isinstance(seg, dict) or not seg.get("scheme") or not seg.get("segment_id"):
            raise RegistryError(f"{where_}: segment needs scheme and segment_id")
        # the members' SQL is compiled from segment_summary's rules when the hypothesis runs (hypotheses.py)
        where, segment_key, rest = "", (str(seg["scheme"]), str(seg["segment_id"])), bool(spec.get("rest"))
    elif spec.get("where"):
        where, segment_key, rest = str(spec["where"]), None, False
    else:
        raise RegistryError(f"{where_}: needs where (SQL over customers) or segment")
    return Group(
        where=where, label_en=str(spec["label_en"]), label_ru=str(spec["label_ru"]), segment=segment_key, rest=rest
    )


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate the registry; errors name the file, the hypothesis and the field."""
    path = Path(path) if path else REGISTRY_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"{path}: cannot be read as YAML: {error}") from error
    if isinstance(data, dict) and "models" in data:  # a dbt properties file: the model's config.meta.registry
        model = next((m for m in data["models"] or [] if m.get("name") == REGISTRY_MODEL), None)
        data = ((model or {}).get("config") or {}).get("meta", {}).get("registry")
        if data is None:
            raise RegistryError(f"{path}: model {REGISTRY_MODEL} has no config.meta.registry")
    return registry_from_data(data, path)


def registry_from_data(data: Any, path: str | Path) -> Registry:
    """Validate a registry already read (`path` names where it came from, in every error)."""
    if not isinstance(data, dict) or not isinstance(data.get("hypotheses"), list):
        raise RegistryError(f"{path}: expected a mapping with a list under 'hypotheses'")
    defaults = data.get("defaults") or {}
    correction = str(defaults.get("correction", "holm"))
    if correction not in ("holm", "fdr_bh"):
        raise RegistryError(f"{path}: defaults.correction must be holm or fdr_bh, not {correction!r}")
    registry = Registry(path=str(path), correction=correction)
    seen: set[str] = set()
    for index, entry in enumerate(data["hypotheses"], start=1):
        if not isinstance(entry, dict) or not entry.get("id"):
            raise RegistryError(f"{path}: hypothesis number {index} has no id")
        hid = str(entry["id"])
        if hid in seen:
            raise RegistryError(f"{path}: hypothesis id {hid!r} is declared twice")
        seen.add(hid)
        for key in ("question_en", "question_ru", "measure", "groups", "family"):
            if not entry.get(key):
                raise RegistryError(f"{path}: hypothesis {hid!r}: missing {key}")
        test = str(entry.get("test", "auto"))
        if test not in TESTS:
            raise RegistryError(f"{path}: hypothesis {hid!r}: test {test!r} is not one of {', '.join(TESTS)}")
        extracts = entry.get("extracts") or list(EXTRACTS)
        unknown = [e for e in extracts if e not in EXTRACTS]
        if unknown:
            raise RegistryError(f"{path}: hypothesis {hid!r}: unknown extracts {unknown}")
        groups = entry["groups"]
        if not isinstance(groups, dict) or set(groups) != {"a", "b"}:
            raise RegistryError(f"{path}: hypothesis {hid!r}: groups must have exactly a and b")
        alpha = float(entry.get("alpha", defaults.get("alpha", 0.05)))
        if not 0 < alpha < 1:
            raise RegistryError(f"{path}: hypothesis {hid!r}: alpha must be between 0 and 1")
        alternative = str(entry.get("alternative", "two-sided"))
        if alternative not in ("two-sided", "greater"):
            raise RegistryError(f"{path}: hypothesis {hid!r}: alternative must be two-sided or greater")
        if alternative != "two-sided" and test == "chi_square":
            raise RegistryError(f"{path}: hypothesis {hid!r}: a chi-square test has no one-sided alternative")
        exploratory_on = entry.get("exploratory_on") or []
        if [e for e in exploratory_on if e not in EXTRACTS]:
            raise RegistryError(f"{path}: hypothesis {hid!r}: unknown extracts in exploratory_on")
        registry.hypotheses.append(
            Hypothesis(
                id=hid,
                question_en=str(entry["question_en"]),
                question_ru=str(entry["question_ru"]),
                extracts=list(extracts),
                measure=str(entry["measure"]),
                measure_en=str(entry.get("measure_en", entry["measure"])),
                measure_ru=str(entry.get("measure_ru", entry["measure"])),
                a=_group(str(path), hid, "a", groups["a"]),
                b=_group(str(path), hid, "b", groups["b"]),
                test=test,
                alpha=alpha,
                family=str(entry["family"]),
                measure_value=None if entry.get("measure_value") is None else str(entry["measure_value"]),
                alternative=alternative,
                exploratory_on=tuple(exploratory_on),
            )
        )
    return registry
