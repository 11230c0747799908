#!/usr/bin/env bash
# The whole test suite: linters (ruff, sqlfluff), then pytest, which builds
# the warehouse with dbt (every dbt data and unit test) on the shipped seeds
# and, when ../shared/data is present, on the real extracts.
set -euo pipefail
cd "$(dirname "$0")/.."
export DBT_SEND_ANONYMOUS_USAGE_STATS=false

echo "== ruff"
.venv/bin/ruff check python tests
.venv/bin/ruff format --check python tests

echo "== sqlfluff (duckdb dialect, dbt templater)"
.venv/bin/sqlfluff lint models analyses tests/singular

echo "== pytest"
.venv/bin/python -m pytest "$@"
