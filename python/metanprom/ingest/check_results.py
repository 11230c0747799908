"""The outcome of a data-quality check, how it reads, and the file the raw gate hands to dbt."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class CheckResult:
    layer: str
    dataset: str
    check: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    observed: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def failed(results: list[CheckResult], severity: str) -> list[CheckResult]:
    return [r for r in results if not r.success and r.severity == severity]


def results_text(results: list[CheckResult]) -> str:
    lines = [f"{'layer':<6}{'dataset':<20}{'severity':<9}{'result':<8}check"]
    for r in results:
        if r.success:
            continue
        where = f" [{r.column}]" if r.column else ""
        verdict = "FAILED" if r.severity == "error" else "WARNED"
        lines.append(f"{r.layer:<6}{r.dataset:<20}{r.severity:<9}{verdict:<8}{r.check}{where}: {r.observed or ''}")
    passed = sum(r.success for r in results)
    lines.append(
        f"{len(results)} checks: {passed} passed, {len(failed(results, 'error'))} failed (error), "
        f"{len(failed(results, 'warning'))} failed (warning)"
    )
    return "\n".join(lines)


def write_results(results: list[CheckResult], path: Path) -> None:
    """Write check results as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump([r.as_dict() for r in results], handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
