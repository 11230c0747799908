"""The column_rules test (tests/dbt/generic/column_rules.sql): one query per node for its data tests that read
it alone (not_null, accepted_range, accepted_values, expression_holds, unique, unique_combination_of_columns,
sums_to), which the default selector (selectors.yml) runs instead of them.

Its counts are compared with the reference: each rule's own test (dbt's not_null, accepted_values and unique;
the project's accepted_range, expression_holds, unique_combination_of_columns and sums_to), run by dbt on the
same warehouse, made to break every rule.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from conftest import DBT_TARGET

from metanprom import pipeline
from metanprom.settings import PROJECT_DIR
from metanprom.sqltext import sql_string

RULES = (
    "not_null",
    "accepted_range",
    "accepted_values",
    "expression_holds",
    "unique",
    "unique_combination_of_columns",
    "sums_to",
)
DBT_OPTIONS = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _manifest() -> dict:
    """The project's manifest, as `dbt parse` writes it."""
    from dbt.cli.main import dbtRunner

    assert dbtRunner().invoke(["parse", *DBT_OPTIONS]).success
    return json.loads((DBT_TARGET / "manifest.json").read_text(encoding="utf-8"))


def _merged(test: dict) -> bool:
    """Whether a column_rules test checks this test (and the default selection leaves it out)."""
    name = (test.get("test_metadata") or {}).get("name")
    return test["resource_type"] == "test" and name in RULES and "checked_alone" not in test["config"]["tags"]


def _sql(value: object) -> str:
    return sql_string(value) if isinstance(value, str) else repr(value)


def _break_every_rule(connection: duckdb.DuckDBPyConnection, node: dict, tests: list[dict]) -> int:
    """Make the node a table of its rows with each column shuffled on its own (which breaks keys, sums and
    relations between columns), then add rows that break the rules on single values: one row of nulls; for a
    range, its bounds and beyond; for a set of values, two values outside it, one twice; and a copy of three
    rows."""
    relation = f'"{node["schema"]}"."{node["alias"]}"'
    columns = [
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [node["schema"], node["alias"]],
        ).fetchall()
    ]
    shuffled = " ".join(
        f'{"from" if i == 0 else "join"} (select "{column}", row_number() over (order by hash(number, {i})) as n '
        f"from numbered) as c{i}{' using (n)' if i else ''}"
        for i, column in enumerate(columns)
    )
    connection.execute(f"create temp table numbered as select *, row_number() over () as number from {relation}")
    quoted = ", ".join(f'"{column}"' for column in columns)
    connection.execute(f"create temp table shuffled as select {quoted} {shuffled}")
    kind = connection.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
        [node["schema"], node["alias"]],
    ).fetchone()[0]
    connection.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {relation}")
    connection.execute(f"create table {relation} as select * from shuffled")
    connection.execute("drop table numbered")
    connection.execute("drop table shuffled")
    types = dict(
        connection.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [node["schema"], node["alias"]],
        ).fetchall()
    )
    rows: list[tuple[str, object]] = [("", None)]
    unbreakable = 0
    for test in tests:
        arguments = test["test_metadata"]["kwargs"]
        column = arguments.get("column_name")
        if test["test_metadata"]["name"] == "accepted_range":
            for bound, step in (("min_value", -1), ("max_value", 1)):
                if arguments.get(bound) is not None:
                    rows += [(column, arguments[bound]), (column, arguments[bound] + step)]
        elif test["test_metadata"]["name"] == "accepted_values" and types[column] != "BOOLEAN":
            values = arguments["values"]
            numeric = types[column].split("(")[0] in NUMBERS
            outside = [max(values) + 1, max(values) + 2] if numeric else ["outside one", "outside two"]
            rows += [(column, outside[0]), (column, outside[0]), (column, outside[1])]
        elif test["test_metadata"]["name"] == "accepted_values":
            unbreakable += 1  # a set of values on a boolean column: no value lies outside it
    for column, value in rows:
        if column:
            connection.execute(f'insert into {relation} ("{column}") values ({_sql(value)})')
        else:
            connection.execute(f"insert into {relation} default values")
    connection.execute(f"insert into {relation} select * from {relation} limit 3")
    return unbreakable


def test_column_rules_count_what_each_rule_counts(shipped_warehouse: Path, tmp_path: Path) -> None:
    manifest = _manifest()
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    rules_of = defaultdict(list)
    for test in tests:
        if _merged(test):
            rules_of[test["attached_node"]].append(test)
    merged = {
        test["attached_node"]: test for test in tests if (test.get("test_metadata") or {}).get("name") == "column_rules"
    }
    assert set(merged) == set(rules_of) and len(merged) >= 30

    copy = tmp_path / "metanprom.duckdb"
    shutil.copy(shipped_warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        unbreakable = sum(
            _break_every_rule(connection, manifest["nodes"][node_id], tests) for node_id, tests in rules_of.items()
        )

    selection = [f"test_name:{name}" for name in (*RULES, "column_rules")]
    with pytest.raises(pipeline.DbtFailure) as failure:
        pipeline.run_dbt(["test", "--select", *selection], copy)
    results = {r["unique_id"]: r for r in json.loads((DBT_TARGET / "run_results.json").read_text())["results"]}

    broken: dict[str, int] = defaultdict(int)
    with duckdb.connect() as connection:
        connection.execute(f"attach {sql_string(copy)} as warehouse (read_only)")
        for node_id, node_tests in rules_of.items():
            expected = {test["name"]: results[test["unique_id"]]["failures"] for test in node_tests}
            merged_result = results[merged[node_id]["unique_id"]]
            rows = connection.execute(merged_result["compiled_code"]).fetchall()
            assert {rule: failures for rule, _, failures in rows} == {n: f for n, f in expected.items() if f}, node_id
            assert merged_result["failures"] == sum(expected.values()), node_id
            assert merged_result["status"] == ("fail" if sum(expected.values()) else "pass"), node_id
            # the run's failure lists each failing rule with its count, and how to see its rows
            listed = str(failure.value).split(merged_result["unique_id"], 1)[1].split("\n  test.", 1)[0]
            assert all(f"\n    {name}: {failures}\n" in listed for name, failures in expected.items() if failures)
            assert f"(each with its rows: dbt test --select {node_id.split('.')[-1]})" in listed
            for test in node_tests:
                broken[test["test_metadata"]["name"]] += bool(expected[test["name"]])
    # every rule was broken, but a set of values on a boolean column
    assert set(broken) == set(RULES), broken
    assert sum(broken.values()) == sum(len(node_tests) for node_tests in rules_of.values()) - unbreakable, broken


def _listed(*selection: str) -> set[str]:
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "ls", "--output", "json", "--output-keys", "unique_id", *selection, *DBT_OPTIONS]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=DBT_TARGET.parent)
    return {json.loads(line)["unique_id"] for line in done.stdout.splitlines() if line.startswith("{")}


def test_the_main_build_runs_column_rules_instead_of_the_rules_it_checks() -> None:
    """The main build's selection (pipeline.MAIN_BUILD, dbt's default selector) is every node but the unit tests
    and the tests a column_rules test checks; a selection of one's own runs those too."""
    manifest = _manifest()
    everything = _listed("--select", "fqn:*")
    built = _listed(*pipeline.MAIN_BUILD[1:])
    merged = {node_id for node_id, node in manifest["nodes"].items() if _merged(node)}
    unit_tests = {node_id for node_id in everything if node_id.startswith("unit_test.")}
    assert len(merged) >= 190 and unit_tests
    assert built == everything - merged - unit_tests
    on_customers = {node_id for node_id in merged if manifest["nodes"][node_id]["attached_node"].endswith(".customers")}
    assert on_customers and _listed("--select", "customers", "--resource-type", "test") >= on_customers


def _operation(macro: str, arguments: dict) -> str:
    """Run a macro with `dbt run-operation`; the errors it logged, or "" when it succeeded."""
    from dbt.cli.main import dbtRunner

    errors: list[str] = []
    runner = dbtRunner(callbacks=[lambda event: errors.append(event.info.msg) if event.info.level == "error" else None])
    outcome = runner.invoke(["run-operation", macro, "--args", json.dumps(arguments), *DBT_OPTIONS])
    assert outcome.success != bool(errors), errors
    return "\n".join(errors)


def _test(name: str, node: str, *, tags: tuple[str, ...] = (), **config: object) -> dict:
    return {
        "resource_type": "test",
        "name": f"{name}_{node}",
        "attached_node": f"model.metanprom.{node}",
        "test_metadata": {"name": name, "kwargs": {"column_name": "x", "values": ["p"], **config.pop("kwargs", {})}},
        "depends_on": config.pop("depends_on", {"nodes": [f"model.metanprom.{node}"]}),
        "config": {"tags": list(tags), "severity": "ERROR", "where": None, "limit": None, "store_failures": None,
                   "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0", **config},
    }  # fmt: skip


def test_a_column_test_on_a_node_without_column_rules_stops_every_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("METANPROM_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    covered = [_test("column_rules", "a"), _test("not_null", "a"), _test("not_null", "b", tags=("checked_alone",))]
    assert _operation("check_column_rules_cover", {"nodes": covered}) == ""
    error = _operation("check_column_rules_cover", {"nodes": [*covered, _test("accepted_range", "c")]})
    assert "would never run by default" in error and "accepted_range_c (on model.metanprom.c)" in error
    assert "not_null_a" not in error and "not_null_b" not in error


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"limit": 5}, "limit: 5"),
        ({"depends_on": {"nodes": ["model.metanprom.a", "model.metanprom.b"]}}, "it reads model.metanprom.b"),
        ({"severity": "warn"}, "severity: warn"),
        ({"kwargs": {"values": "{{ var('extract_formats') | list }}"}}, "argument values written in Jinja"),
    ],
)
def test_a_rule_one_query_cannot_check_as_its_own_test_is_refused(tmp_path, monkeypatch, config, reason) -> None:
    monkeypatch.setenv("METANPROM_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    nodes = [_test("accepted_values", "a", **config)]
    error = _operation("column_rules_of", {"node_id": "model.metanprom.a", "relation": "a", "nodes": nodes})
    assert "test accepted_values_a cannot be checked" in error and reason in error and "checked_alone" in error
    nodes[0]["config"]["tags"] = ["checked_alone"]
    assert _operation("column_rules_of", {"node_id": "model.metanprom.a", "relation": "a", "nodes": nodes}) == ""
