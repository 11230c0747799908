"""Every model and column is documented, every model states its grain, docs match what is built."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DBT_TARGET

from metanprom.warehouse import connect


def _manifest() -> dict:
    return json.loads((DBT_TARGET / "manifest.json").read_text(encoding="utf-8"))


def test_every_model_states_its_grain_and_documents_every_built_column(shipped_warehouse: Path) -> None:
    manifest = _manifest()
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 20
    problems = []
    with connect(shipped_warehouse) as con:
        for node in models:
            description = node["description"].lower()
            if "one row per" not in description:
                problems.append(f"{node['name']}: description does not state its grain ('one row per ...')")
            built = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [node["schema"], node["alias"]],
                ).fetchall()
            }
            documented = {name for name, col in node["columns"].items() if col["description"].strip()}
            if built - documented:
                problems.append(f"{node['name']}: undocumented columns {sorted(built - documented)}")
            if set(node["columns"]) - built:
                problems.append(f"{node['name']}: documented but not built {sorted(set(node['columns']) - built)}")
    assert problems == []


def test_every_seed_and_macro_is_documented() -> None:
    manifest = _manifest()
    seeds = [n for n in manifest["nodes"].values() if n["resource_type"] == "seed"]
    assert all(s["description"].strip() for s in seeds)
    ours = [m for m in manifest["macros"].values() if m["package_name"] == "metanprom"]
    undocumented = [m["name"] for m in ours if not m["description"].strip()]
    assert undocumented == []


def _layer(node: dict) -> str:
    """staging, intermediate or marts: the models/ folder the node lives in; seed for a seed."""
    if node["resource_type"] == "seed":
        return "seed"
    return Path(node["original_file_path"]).parts[1]


#: what each layer may read (dbt's structure guide: data flows one way, staging -> intermediate -> marts)
MAY_READ = {
    "staging": {"seed"},
    "intermediate": {"staging", "intermediate"},
    "marts": {"staging", "intermediate", "marts"},
}


def test_layers_read_only_upstream_and_names_say_the_layer() -> None:
    nodes = _manifest()["nodes"]
    models = [n for n in nodes.values() if n["resource_type"] == "model"]
    assert {_layer(m) for m in models} == set(MAY_READ)
    problems = []
    for model in models:
        layer = _layer(model)
        prefix = {"staging": "stg_", "intermediate": "int_"}.get(layer)
        if prefix and not model["name"].startswith(prefix):
            problems.append(f"{model['name']}: a {layer} model not named {prefix}*")
        if layer == "marts" and model["name"].startswith(("stg_", "int_")):
            problems.append(f"{model['name']}: a mart named like another layer")
        for parent in model["depends_on"]["nodes"]:
            if parent in nodes and _layer(nodes[parent]) not in MAY_READ[layer]:
                problems.append(f"{model['name']} ({layer}) reads {nodes[parent]['name']} ({_layer(nodes[parent])})")
    assert problems == []
