#!/usr/bin/env bash
# Set up the project: .venv at the repository root with every pinned
# dependency (requirements.txt) and the `metanprom` command. Safe to rerun:
# it installs again only when requirements.txt or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${METANPROM_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "bootstrap: no python3.11 or python3 on PATH" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

stamp=.venv/.metanprom-installed
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "bootstrap: installing pinned dependencies into .venv (a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$wanted" > "$stamp"
fi
# The Spark target (`--target spark`, local pyspark) needs a Java 17+ runtime: Debian's openjdk-17-jre-headless.
# DuckDB, the default, needs none, so without root the setup only says how to add it.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ "${java_major:-0}" -lt 17 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's openjdk-17-jre-headless (Java for the Spark target)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
  else
    echo "bootstrap: no Java 17+ found; the Spark target needs it (sudo apt-get install openjdk-17-jre-headless)" >&2
  fi
fi
echo "bootstrap: ready ($(.venv/bin/metanprom --help >/dev/null && echo 'metanprom command installed'))"
