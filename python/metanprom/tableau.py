"""The Tableau data source (.tds) and workbook (.twb) kept in tableau/, written from the marts' columns.

    python -m metanprom.tableau            # rewrite tableau/*.tds and tableau/churn_segments.twb

Both point at the `.hyper` files `metanprom export` writes, by a path relative
to the tableau/ folder (../output/exports/hyper/<mart>.hyper), table
"Extract"."<mart>". A test checks the committed files are this module's
output and that every field they use exists in the exports with its type.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import duckdb

from metanprom.settings import PROJECT_DIR

TABLEAU_DIR = PROJECT_DIR / "tableau"
HYPER_DIR_FROM_TABLEAU = "../output/exports/hyper"
WORKBOOK = "churn_segments.twb"

#: DuckDB type -> Tableau datatype.
DATATYPES = {"VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "real", "BOOLEAN": "boolean"}
#: Hyper type (as the Hyper API prints it) -> Tableau datatype.
HYPER_DATATYPES = {"TEXT": "string", "BIG_INT": "integer", "INT": "integer", "DOUBLE": "real", "BOOL": "boolean"}

#: The dashboard's sheets: name, mart, columns (x), rows (y), extra fields shown.
SHEETS = [
    ("Churn by product count", "product_portraits", ["product_count"], ["churn_rate"], ["extract", "customers"]),
    (
        "Churn portrait",
        "churn_portrait",
        ["feature", "feature_value"],
        ["churned_value", "retained_value"],
        ["extract", "statistic", "relative_difference"],
    ),
    (
        "Segments",
        "segment_summary",
        ["scheme", "segment_name"],
        ["customers", "churn_rate"],
        ["extract", "lift", "priority_rank", "excess_churners", "offer_en", "offer_ru"],
    ),
    ("Churn by feature", "churn_by_feature", ["feature", "feature_value"], ["churn_rate"], ["extract", "value_order"]),
    ("Customers", "customers", ["city", "gender"], ["is_churned"], ["extract", "product_count", "customer_key"]),
]
#: Dashboard filters: (mart of the filter's sheet, field).
FILTERS = [("customers", "extract"), ("customers", "city"), ("customers", "gender"), ("customers", "product_count")]
DATASOURCE_MARTS = sorted({sheet[1] for sheet in SHEETS})


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    return [(r[0], DATATYPES.get(r[1], "string")) for r in con.execute(f"describe main.{mart}").fetchall()]


def _datasource(mart: str, columns: list[tuple[str, str]], indent: str = "    ") -> str:
    lines = [
        f"{indent}<datasource caption={quoteattr(mart)} inline='true' "
        f"name={quoteattr('federated.' + mart)} version='18.1'>",
        f"{indent}  <connection class='federated'>",
        f"{indent}    <named-connections>",
        f"{indent}      <named-connection caption={quoteattr(mart)} name={quoteattr('hyper.' + mart)}>",
        f"{indent}        <connection class='hyper' dbname={quoteattr(f'{HYPER_DIR_FROM_TABLEAU}/{mart}.hyper')} "
        f"schema='Extract' tablename={quoteattr(mart)} />",
        f"{indent}      </named-connection>",
        f"{indent}    </named-connections>",
        f"{indent}    <relation connection={quoteattr('hyper.' + mart)} name={quoteattr(mart)} "
        f"table={quoteattr(f'[Extract].[{mart}]')} type='table' />",
        f"{indent}  </connection>",
    ]
    for name, datatype in columns:
        role = (
            "measure"
            if datatype in ("integer", "real") and not name.endswith(("_order", "_count", "_id"))
            else "dimension"
        )
        kind = "quantitative" if role == "measure" else ("ordinal" if name.endswith("_order") else "nominal")
        lines.append(
            f"{indent}  <column caption={quoteattr(name)} datatype='{datatype}' name={quoteattr(f'[{name}]')} "
            f"role='{role}' type='{kind}' />"
        )
    lines.append(f"{indent}</datasource>")
    return "\n".join(lines)


def render(warehouse: Path) -> dict[str, str]:
    """The .tds of each mart the dashboard uses, and the workbook, as text."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = {mart: _columns(con, mart) for mart in DATASOURCE_MARTS}
    finally:
        con.close()
    files = {}
    for mart in DATASOURCE_MARTS:
        files[f"{mart}.tds"] = "<?xml version='1.0' encoding='utf-8' ?>\n" + _datasource(mart, columns[mart], "") + "\n"
    lines = [
        "<?xml version='1.0' encoding='utf-8' ?>",
        "<!-- Written by python -m metanprom.tableau: edit that module, not this file. -->",
        "<workbook source-build='2024.1.0' version='18.1' xmlns:user='http://www.tableausoftware.com/xml/user'>",
        "  <datasources>",
        *(_datasource(mart, columns[mart]) for mart in DATASOURCE_MARTS),
        "  </datasources>",
        "  <worksheets>",
    ]
    for name, mart, cols, rows, extra in SHEETS:
        ds = f"federated.{mart}"
        lines += [
            f"    <worksheet name={quoteattr(name)}>",
            "      <table>",
            "        <view>",
            f"          <datasources><datasource name={quoteattr(ds)} /></datasources>",
            *(
                f"          <datasource-dependencies datasource={quoteattr(ds)}>"
                f"<column-instance column={quoteattr(f'[{field}]')} name={quoteattr(f'[{field}]')} />"
                "</datasource-dependencies>"
                for field in [*cols, *rows, *extra]
            ),
            *(
                f"          <filter class='categorical' column={quoteattr(f'[{ds}].[{field}]')} />"
                for fmart, field in FILTERS
                if fmart == mart or field == "extract"
            ),
            "        </view>",
            f"        <rows>{' / '.join(f'[{ds}].[{r}]' for r in rows)}</rows>",
            f"        <cols>{' / '.join(f'[{ds}].[{c}]' for c in cols)}</cols>",
            "      </table>",
            "    </worksheet>",
        ]
    lines += [
        "  </worksheets>",
        "  <dashboards>",
        "    <dashboard name='Churn segments'>",
        "      <zones>",
        *(f"        <zone name={quoteattr(name)} type-v2='viz' />" for name, *_ in SHEETS),
        *(
            f"        <zone name={quoteattr(f'{field} filter')} param={quoteattr(f'[federated.{mart}].[{field}]')} "
            "type-v2='filter' />"
            for mart, field in FILTERS
        ),
        "      </zones>",
        "    </dashboard>",
        "  </dashboards>",
        "</workbook>",
    ]
    files[WORKBOOK] = "\n".join(lines) + "\n"
    return files


def write(warehouse: Path, directory: Path = TABLEAU_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(warehouse).items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    return written


if __name__ == "__main__":
    from metanprom.settings import warehouse_path

    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else warehouse_path()):
        print(f"wrote {path}")
