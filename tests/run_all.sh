#!/usr/bin/env bash
# The whole test suite: linters (ruff, sqlfluff), then pytest, which builds
# the warehouse with dbt (every dbt data and unit test) on the shipped seeds
# and, when ../shared/data is present, on the real extracts.
set -euo pipefail
cd "$(dirname "$0")/.."
export DBT_SEND_ANONYMOUS_USAGE_STATS=false

echo "== ruff"
.venv/bin/ruff check python tests models
.venv/bin/ruff format --check python tests models

echo "== sqlfluff (duckdb dialect, dbt templater)"
# The dbt templater compiles against a scratch warehouse, never the real one; it
# holds the segment definitions so the segment models compile with every rule.
mkdir -p target
rm -f target/sqlfluff.duckdb
export METANPROM_DUCKDB_PATH=target/sqlfluff.duckdb
.venv/bin/dbt build --profiles-dir . --quiet --select +stg_reference__segment_definitions
.venv/bin/sqlfluff lint models analyses tests/dbt/singular
unset METANPROM_DUCKDB_PATH

echo "== pytest"
.venv/bin/python -m pytest "$@"
