"""The Tableau workbook and data sources kept in tableau/, written from the marts' columns.

    metanprom tableau                      # rewrite tableau/*.twb and tableau/*.tds

What is written, and why it is shaped so:

- One wide extract feeds the dashboard: the mart `dashboard_customers`, its
  customers counted by cell (extract, scheme, segment and every dimension a
  sheet or filter uses), the `all_customers` scheme counting each customer
  once, the others once per segment membership. Every sheet of the
  dashboard reads it, so the dashboard's filters (extract, city, gender,
  product count) are one filter group each and act on every sheet. Rates
  are ratios of sums (SUM([churned]) / SUM([customers])) and means ratios of
  totals (SUM([age_total]) / SUM([customers])), right at every level of
  detail; the bank's rate is a FIXED level-of-detail expression over the
  all-customers rows, evaluated after the dashboard's filters, which are
  context filters.
- Hypotheses are tested on whole extracts, so they live on their own
  dashboard over `hypothesis_results`, with the extract filter only.
- Every sheet has an extract filter (one extract at a time, the current
  format `bank_scrooge` by default).
- Structure as Tableau Desktop writes it (column instances, panes with a
  mark class, <groupfilter>s, zones with ids and positions, <windows>,
  simple ids), `version` 25.3: the file validates against Tableau's
  2025.3 schema, the oldest published, and opens in Tableau 2025.3 and later.
- Connections: the `.hyper` files `metanprom export` writes, by a path
  relative to tableau/ (../output/exports/hyper/<mart>.hyper, table
  "Extract"."<mart>"); `metanprom_duckdb.tds` connects to the DuckDB file the
  export writes for DuckDB's 1.x JDBC driver, through the DuckDB connector
  for Tableau (connection class `duckdb_jdbc`).

A test validates the files against the schema, checks the committed files are
this module's output, and evaluates every sheet's formulas on the exported
data, comparing each figure with the marts.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from metanprom.delivery.export import DUCKDB_FILE
from metanprom.settings import PROJECT_DIR

TABLEAU_DIR = PROJECT_DIR / "tableau"
HYPER_DIR_FROM_TABLEAU = "../output/exports/hyper"
DUCKDB_FILE_FROM_TABLEAU = f"../output/exports/duckdb/{DUCKDB_FILE}"
WORKBOOK = "churn_segments.twb"
#: The workbook format: Tableau 2025.3 (the oldest release whose schema Tableau publishes).
WORKBOOK_VERSION = "25.3"
SOURCE_BUILD = "2025.3.0 (20253.25.0910.1208)"
DATASOURCE_VERSION = "18.1"
USER_NS = "http://www.tableausoftware.com/xml/user"
#: The extract shown when the workbook opens.
DEFAULT_EXTRACT = "bank_scrooge"
#: Rows of `dashboard_customers` that count each customer once.
CUSTOMER_ROWS = "all_customers"

ET.register_namespace("user", USER_NS)

#: DuckDB type -> Tableau datatype.
DATATYPES = {
    "VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer", "SMALLINT": "integer",
    "DOUBLE": "real", "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date",
}  # fmt: skip
#: Hyper type (as the Hyper API prints it) -> Tableau datatype.
HYPER_DATATYPES = {
    "TEXT": "string", "BIG_INT": "integer", "INT": "integer", "SMALL_INT": "integer",
    "DOUBLE": "real", "BOOL": "boolean", "DATE": "date",
}  # fmt: skip


def _uuid(*parts: str) -> str:
    """A stable id (Desktop's simple-id format), so the generated files are reproducible."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "metanprom:" + "/".join(parts))).upper() + "}"


# ---------------------------------------------------------------- the design


@dataclass(frozen=True)
class Calc:
    """A calculated field: its id (the field's name), caption, formula, type and number format."""

    name: str
    caption: str
    formula: str
    datatype: str = "real"
    role: str = "measure"
    kind: str = "quantitative"
    number_format: str | None = None


@dataclass(frozen=True)
class Source:
    """A data source: one mart, exported as its own .hyper file."""

    name: str
    caption: str
    mart: str
    calcs: tuple[Calc, ...] = ()
    captions: dict[str, str] = field(default_factory=dict)


#: The dashboard's measures, as Tableau formulas over `dashboard_customers`.
CUSTOMER_CALCS = (
    Calc("Calculation_churn_rate", "Churn rate", "SUM([churned]) / SUM([customers])", number_format="p0.0%"),
    Calc(
        "Calculation_bank_churn_rate",
        "Bank churn rate",
        "{FIXED [extract] : SUM(IIF([scheme] = 'all_customers', [churned], 0))"
        " / SUM(IIF([scheme] = 'all_customers', [customers], 0))}",
        number_format="p0.0%",
    ),
    Calc(
        "Calculation_lift",
        "Lift",
        "[Calculation_churn_rate] / MIN([Calculation_bank_churn_rate])",
        number_format="n#,##0.00",
    ),
    Calc(
        "Calculation_excess_churners",
        "Excess churners",
        "SUM([churned]) - SUM([customers]) * MIN([Calculation_bank_churn_rate])",
        number_format="n#,##0",
    ),
    Calc("Calculation_priority", "Priority", "RANK([Calculation_excess_churners])", datatype="integer"),
    Calc(
        "Calculation_churn_status",
        "Churn status",
        "IIF([is_churned], 'Churned', 'Retained')",
        datatype="string",
        role="dimension",
        kind="nominal",
    ),
)

#: The portrait's features: each mean is a ratio of sums over the cells (the mart's <feature>_total and the
#: customers it sums over), so it holds at every level of detail; (column, caption, customers it sums over).
PORTRAIT = (
    ("age", "Age", "customers"), ("credit_score", "Credit score", "customers"),
    ("property_score", "Property score", "customers"), ("balance", "Balance", "balance_customers"),
    ("estimated_salary", "Estimated salary", "customers"), ("product_count", "Products", "customers"),
)  # fmt: skip
PORTRAIT_CALCS = tuple(
    Calc(
        f"Calculation_mean_{column}",
        f"Mean {caption.lower()}",
        f"SUM([{column}_total]) / SUM([{over}])",
        number_format="n#,##0.00",
    )
    for column, caption, over in PORTRAIT
)

#: The features "Churn by feature" offers (the values of churn_by_feature.feature), with their captions.
FEATURES = (
    ("product_count", "Products"), ("age_band", "Age band"), ("credit_score_band", "Credit score band"),
    ("balance_band", "Balance band"), ("estimated_salary_band", "Salary band"), ("city", "City"),
    ("gender", "Gender"), ("property_score", "Property score"), ("is_active", "Active"),
    ("has_credit_card", "Credit card"), ("has_balance", "Has a balance"),
)  # fmt: skip
#: How each feature's value reads as text (as churn_by_feature.feature_value) and sorts.
_INTEGER_FEATURES = ("product_count", "property_score")
_BOOLEAN_FEATURES = ("is_active", "has_credit_card", "has_balance")
_BAND_FEATURES = ("age_band", "credit_score_band", "balance_band", "estimated_salary_band")
FEATURE_PARAMETER = "[Parameters].[Parameter 1]"


def _feature_value_formula() -> str:
    cases = []
    for column, _ in FEATURES:
        if column in _INTEGER_FEATURES:
            value = f"STR([{column}])"
        elif column in _BOOLEAN_FEATURES:
            value = f"IIF([{column}], 'true', 'false')"
        else:
            value = f"[{column}]"
        cases.append(f"WHEN '{column}' THEN {value}")
    return f"CASE {FEATURE_PARAMETER} " + " ".join(cases) + " END"


def _feature_order_formula() -> str:
    cases = []
    for column, _ in FEATURES:
        if column in _BAND_FEATURES:
            cases.append(f"WHEN '{column}' THEN [{column}_order]")
        elif column in _INTEGER_FEATURES:
            cases.append(f"WHEN '{column}' THEN [{column}]")
        elif column in _BOOLEAN_FEATURES:
            cases.append(f"WHEN '{column}' THEN IIF([{column}], 1, 0)")
    return f"CASE {FEATURE_PARAMETER} " + " ".join(cases) + " ELSE 0 END"


FEATURE_CALCS = (
    Calc(
        "Calculation_feature_value",
        "Feature value",
        _feature_value_formula(),
        datatype="string",
        role="dimension",
        kind="nominal",
    ),
    Calc(
        "Calculation_feature_order",
        "Feature value order",
        _feature_order_formula(),
        datatype="integer",
        role="dimension",
        kind="ordinal",
    ),
)

CUSTOMERS = Source(
    name="federated.metanprom_customers",
    caption="Metanprom customers",
    mart="dashboard_customers",
    calcs=CUSTOMER_CALCS + PORTRAIT_CALCS + FEATURE_CALCS,
    captions={
        "extract": "Extract", "city": "City", "gender": "Gender", "product_count": "Products",
        "customers": "Customers", "churned": "Churned customers", "segment_name": "Segment",
        "scheme": "Scheme", "offer_en": "Offer", "cluster_id": "Cluster", "property_score": "Property score",
        "balance_customers": "Customers with a balance",
    },
)  # fmt: skip
HYPOTHESES = Source(
    name="federated.metanprom_hypotheses",
    caption="Metanprom hypotheses",
    mart="hypothesis_results",
    calcs=(
        Calc(
            "Calculation_decision",
            "Decision",
            "IIF([reject_null], 'Difference found', 'No evidence of a difference')",
            datatype="string",
            role="dimension",
            kind="nominal",
        ),
    ),
    captions={
        "extract": "Extract", "question_en": "Question", "p_value_adjusted": "Adjusted p-value",
        "effect_size": "Effect size", "effect_size_name": "Effect size measure", "test": "Test",
    },
)  # fmt: skip
SOURCES = (CUSTOMERS, HYPOTHESES)


@dataclass(frozen=True)
class Field:
    """A field on a shelf: the column (or calc) and how it is used.

    derivation: None (a dimension), or Sum/Avg/Min (an aggregated column), or User (an aggregate calc).
    """

    column: str
    derivation: str = "None"
    kind: str = "nominal"  # nominal | ordinal | quantitative
    table_calc_along: tuple[str, ...] = ()  # a table calculation's addressing fields (columns)

    @property
    def instance(self) -> str:
        prefix = {"None": "none", "Sum": "sum", "Avg": "avg", "Min": "min", "User": "usr"}[self.derivation]
        suffix = {"nominal": "nk", "ordinal": "ok", "quantitative": "qk"}[self.kind]
        return f"[{prefix}:{self.column}:{suffix}]"


def dim(column: str, kind: str = "nominal") -> Field:
    return Field(column, "None", kind)


def measure(column: str, derivation: str = "User") -> Field:
    return Field(column, derivation, "quantitative")


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its shelves, marks and the filters only it has."""

    name: str
    source: Source
    rows: tuple[Field, ...]
    cols: tuple[Field, ...]
    mark: str = "Bar"
    label: tuple[Field, ...] = ()
    detail: tuple[Field, ...] = ()
    #: Filters of this sheet alone: (column, values kept, or values dropped with keep=False).
    scheme_filter: tuple[str, bool] | None = None
    sort_by: Field | None = None
    reference_line: Field | None = None
    parameters: tuple[str, ...] = ()


CHURN_RATE = measure("Calculation_churn_rate")
CUSTOMER_COUNT = measure("customers", "Sum")
SHEETS = (
    Sheet(
        "Churn by product count",
        CUSTOMERS,
        rows=(CHURN_RATE,),
        cols=(dim("product_count", "ordinal"),),
        label=(CHURN_RATE,),
        detail=(CUSTOMER_COUNT,),
        scheme_filter=(CUSTOMER_ROWS, True),
    ),
    Sheet(
        "Churn portrait",
        CUSTOMERS,
        rows=tuple(measure(calc.name) for calc in PORTRAIT_CALCS),
        cols=(dim("Calculation_churn_status"),),
        label=(),
        scheme_filter=(CUSTOMER_ROWS, True),
    ),
    Sheet(
        "Segments",
        CUSTOMERS,
        rows=(dim("scheme"), dim("segment_name"), dim("offer_en")),
        cols=(
            CUSTOMER_COUNT,
            CHURN_RATE,
            measure("Calculation_lift"),
            measure("Calculation_excess_churners"),
            Field("Calculation_priority", "User", "quantitative", ("segment_name", "offer_en")),
        ),
        scheme_filter=(CUSTOMER_ROWS, False),
        sort_by=measure("Calculation_excess_churners"),
    ),
    Sheet(
        "Churn by feature",
        CUSTOMERS,
        rows=(dim("Calculation_feature_order", "ordinal"), dim("Calculation_feature_value")),
        cols=(CHURN_RATE,),
        label=(CHURN_RATE,),
        detail=(CUSTOMER_COUNT, measure("Calculation_bank_churn_rate", "Min")),
        scheme_filter=(CUSTOMER_ROWS, True),
        reference_line=measure("Calculation_bank_churn_rate", "Min"),
        parameters=(FEATURE_PARAMETER,),
    ),
    Sheet(
        "Clusters",
        CUSTOMERS,
        rows=(CHURN_RATE, CUSTOMER_COUNT),
        cols=(dim("cluster_id", "ordinal"),),
        scheme_filter=(CUSTOMER_ROWS, True),
    ),
    Sheet(
        "Hypotheses",
        HYPOTHESES,
        rows=(dim("question_en"), dim("Calculation_decision"), dim("test")),
        cols=(measure("p_value_adjusted", "Min"), measure("effect_size", "Min")),
        mark="Circle",
    ),
)

#: Dashboard filters shared by every sheet of a source: (column, kind, single value, default value).
SHARED_FILTERS = {
    CUSTOMERS.name: (
        ("extract", "nominal", True, DEFAULT_EXTRACT),
        ("city", "nominal", False, None),
        ("gender", "nominal", False, None),
        ("product_count", "ordinal", False, None),
    ),
    HYPOTHESES.name: (("extract", "nominal", True, DEFAULT_EXTRACT),),
}
DASHBOARDS = (
    ("Churn segments", ("Churn by product count", "Churn portrait", "Segments", "Churn by feature", "Clusters")),
    ("Hypotheses tested", ("Hypotheses",)),
)


# ---------------------------------------------------------------- writing XML


def _sub(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _role(name: str, datatype: str) -> tuple[str, str]:
    """Role and type of a plain column: numbers that count or measure are measures, ids and orders dimensions."""
    if datatype in ("integer", "real") and not name.endswith(("_order", "_id", "product_count", "property_score")):
        return "measure", "quantitative"
    if name.endswith(("_order", "_id", "product_count", "property_score")):
        return "dimension", "ordinal"
    return "dimension", "nominal"


def _hyper_connection(parent: ET.Element, source: Source) -> None:
    connection = _sub(parent, "connection", {"class": "federated"})
    named = _sub(_sub(connection, "named-connections"), "named-connection", {
        "caption": source.mart, "name": f"hyper.{source.mart}",
    })  # fmt: skip
    _sub(named, "connection", {
        "authentication": "auth-none", "author-locale": "en_US", "class": "hyper",
        "dbname": f"{HYPER_DIR_FROM_TABLEAU}/{source.mart}.hyper", "default-settings": "yes",
        "schema": "Extract", "sslmode": "", "tablename": source.mart, "username": "",
    })  # fmt: skip
    _sub(connection, "relation", {
        "connection": f"hyper.{source.mart}", "name": source.mart, "table": f"[Extract].[{source.mart}]",
        "type": "table",
    })  # fmt: skip


def _duckdb_connection(parent: ET.Element, source: Source) -> None:
    connection = _sub(parent, "connection", {"class": "federated"})
    named = _sub(_sub(connection, "named-connections"), "named-connection", {
        "caption": DUCKDB_FILE, "name": "duckdb_jdbc.metanprom",
    })  # fmt: skip
    _sub(named, "connection", {
        "authentication": "auth-none", "class": "duckdb_jdbc", "dbname": "metanprom_marts",
        "schema": "main", "server": "local", "v-connection_string_file": DUCKDB_FILE_FROM_TABLEAU,
    })  # fmt: skip
    _sub(connection, "relation", {
        "connection": "duckdb_jdbc.metanprom", "name": source.mart, "table": f"[main].[{source.mart}]",
        "type": "table",
    })  # fmt: skip


def _calc_column(parent: ET.Element, calc: Calc) -> None:
    column = _sub(parent, "column", {
        "caption": calc.caption, "datatype": calc.datatype, "default-format": calc.number_format,
        "name": f"[{calc.name}]", "role": calc.role, "type": calc.kind,
    })  # fmt: skip
    _sub(column, "calculation", {"class": "tableau", "formula": calc.formula})


def _datasource(
    parent: ET.Element, source: Source, columns: list[tuple[str, str]], connect=_hyper_connection
) -> ET.Element:
    ds = _sub(parent, "datasource", {
        "caption": source.caption, "inline": "true", "name": source.name, "version": DATASOURCE_VERSION,
    })  # fmt: skip
    connect(ds, source)
    _sub(ds, "aliases", {"enabled": "yes"})
    for name, datatype in columns:
        role, kind = _role(name, datatype)
        _sub(ds, "column", {
            "caption": source.captions.get(name), "datatype": datatype, "name": f"[{name}]", "role": role,
            "type": kind,
        })  # fmt: skip
    for calc in source.calcs:
        _calc_column(ds, calc)
    return ds


def _parameters_datasource(parent: ET.Element) -> None:
    ds = _sub(
        parent,
        "datasource",
        {"hasconnection": "false", "inline": "true", "name": "Parameters", "version": DATASOURCE_VERSION},
    )
    _sub(ds, "aliases", {"enabled": "yes"})
    first = FEATURES[0][0]
    column = _sub(ds, "column", {
        "caption": "Feature", "datatype": "string", "name": "[Parameter 1]", "param-domain-type": "list",
        "role": "measure", "type": "nominal", "value": f'"{first}"',
    })  # fmt: skip
    _sub(column, "calculation", {"class": "tableau", "formula": f'"{first}"'})
    members = _sub(column, "members")
    for value, caption in FEATURES:
        _sub(members, "member", {"alias": caption, "value": f'"{value}"'})


def _column_of(source: Source, columns: dict[str, str], name: str) -> tuple[str, str, str]:
    """(datatype, role, type) of a column or calc of the source."""
    for calc in source.calcs:
        if calc.name == name:
            return calc.datatype, calc.role, calc.kind
    datatype = columns[name]
    return (datatype, *_role(name, datatype))


def _referenced_calcs(source: Source, names: set[str]) -> set[str]:
    """The calcs `names` use, directly or through other calcs."""
    found = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        for calc in source.calcs:
            if calc.name == name and name not in found:
                found.add(name)
                pending += [c.name for c in source.calcs if f"[{c.name}]" in calc.formula]
    return found


def _member(value: str, datatype: str) -> str:
    return f'"{value}"' if datatype == "string" else value


def _filter(view: ET.Element, ds: str, column: Field, datatype: str, *, keep: list[str] | None,
            drop: list[str] | None = None, group: int | None = None, context: bool = False) -> None:  # fmt: skip
    level = column.instance
    element = _sub(view, "filter", {
        "class": "categorical", "column": f"[{ds}].{level}", "context": "true" if context else None,
        "filter-group": str(group) if group is not None else None,
    })  # fmt: skip
    if drop:
        outer = _sub(element, "groupfilter", {
            "function": "except", f"{{{USER_NS}}}ui-domain": "database",
            f"{{{USER_NS}}}ui-enumeration": "exclusive", f"{{{USER_NS}}}ui-marker": "enumerate",
        })  # fmt: skip
        _sub(outer, "groupfilter", {"function": "level-members", "level": level})
        for value in drop:
            _sub(outer, "groupfilter", {"function": "member", "level": level, "member": _member(value, datatype)})
    elif keep:
        _sub(element, "groupfilter", {
            "function": "member", "level": level, "member": _member(keep[0], datatype),
            f"{{{USER_NS}}}ui-domain": "database", f"{{{USER_NS}}}ui-enumeration": "inclusive",
            f"{{{USER_NS}}}ui-marker": "enumerate",
        })  # fmt: skip
    else:
        _sub(element, "groupfilter", {
            "function": "level-members", "level": level, f"{{{USER_NS}}}ui-enumeration": "all",
            f"{{{USER_NS}}}ui-marker": "enumerate",
        })  # fmt: skip


def _shelf(ds: str, fields: tuple[Field, ...], joiner: str) -> str | None:
    if not fields:
        return None
    names = [f"[{ds}].{f.instance}" for f in fields]
    return names[0] if len(names) == 1 else "(" + f" {joiner} ".join(names) + ")"


def _worksheet(parent: ET.Element, sheet: Sheet, columns: dict[str, str]) -> None:
    source = sheet.source
    ds = source.name
    ws = _sub(parent, "worksheet", {"name": sheet.name})
    title = _sub(_sub(_sub(ws, "layout-options"), "title"), "formatted-text")
    _sub(title, "run", text=sheet.name)
    table = _sub(ws, "table")
    view = _sub(table, "view")
    sources = _sub(view, "datasources")
    if sheet.parameters:
        _sub(sources, "datasource", {"name": "Parameters"})
    _sub(sources, "datasource", {"caption": source.caption, "name": ds})
    if sheet.parameters:
        deps = _sub(view, "datasource-dependencies", {"datasource": "Parameters"})
        _parameter_columns = ET.Element("x")
        _parameters_datasource(_parameter_columns)
        for column in _parameter_columns.find("datasource").findall("column"):
            deps.append(column)

    shared = SHARED_FILTERS.get(ds, ())
    filter_fields = [Field(column, "None", kind) for column, kind, *_ in shared]
    if sheet.scheme_filter:
        filter_fields.append(dim("scheme"))
    used = [*sheet.rows, *sheet.cols, *sheet.label, *sheet.detail, *filter_fields]
    if sheet.sort_by:
        used.append(sheet.sort_by)
    instances: dict[str, Field] = {}
    for f in used:
        instances.setdefault(f.instance, f)
    plain = sorted({f.column for f in instances.values()})
    calcs = _referenced_calcs(source, set(plain))
    deps = _sub(view, "datasource-dependencies", {"datasource": ds})
    for name in sorted(set(plain) | calcs):
        calc = next((c for c in source.calcs if c.name == name), None)
        if calc:
            _calc_column(deps, calc)
        else:
            datatype = columns[name]
            role, kind = _role(name, datatype)
            _sub(deps, "column", {
                "caption": source.captions.get(name), "datatype": datatype, "name": f"[{name}]", "role": role,
                "type": kind,
            })  # fmt: skip
    for instance in sorted(instances):
        f = instances[instance]
        ci = _sub(deps, "column-instance", {
            "column": f"[{f.column}]", "derivation": f.derivation, "name": f.instance, "pivot": "key", "type": f.kind,
        })  # fmt: skip
        if f.table_calc_along:
            tc = _sub(ci, "table-calc", {"ordering-type": "Field"})
            for along in f.table_calc_along:
                _sub(tc, "order", {"field": f"[{ds}].{dim(along).instance}"})

    for index, (column, kind, single, default) in enumerate(shared, start=1):
        datatype = _column_of(source, columns, column)[0]
        group = _filter_group(ds, index)
        _filter(view, ds, Field(column, "None", kind), datatype, keep=[default] if single else None,
                group=group, context=True)  # fmt: skip
    if sheet.scheme_filter:
        value, keep = sheet.scheme_filter
        _filter(view, ds, dim("scheme"), "string", keep=[value] if keep else None, drop=None if keep else [value])
    if sheet.sort_by:
        first_dim = next(f for f in (*sheet.rows, *sheet.cols) if f.derivation == "None" and f.column != "scheme")
        _sub(view, "computed-sort", {
            "column": f"[{ds}].{first_dim.instance}", "direction": "DESC", "using": f"[{ds}].{sheet.sort_by.instance}",
        })  # fmt: skip
    slices = _sub(view, "slices")
    for column, kind, *_ in shared:
        _sub(slices, "column", text=f"[{ds}].{Field(column, 'None', kind).instance}")
    if sheet.scheme_filter:
        _sub(slices, "column", text=f"[{ds}].{dim('scheme').instance}")
    _sub(view, "aggregation", {"value": "true"})

    _sub(table, "style")
    pane = _sub(_sub(table, "panes"), "pane", {"selection-relaxation-option": "selection-relaxation-allow"})
    _sub(_sub(pane, "view"), "breakdown", {"value": "auto"})
    _sub(pane, "mark", {"class": sheet.mark})
    if sheet.label or sheet.detail:
        encodings = _sub(pane, "encodings")
        for f in sheet.label:
            _sub(encodings, "text", {"column": f"[{ds}].{f.instance}"})
        for f in sheet.detail:
            _sub(encodings, "lod", {"column": f"[{ds}].{f.instance}"})
    if sheet.reference_line:
        axis = next(f for f in (*sheet.rows, *sheet.cols) if f.derivation != "None")
        _sub(pane, "reference-line", {
            "axis-column": f"[{ds}].{axis.instance}", "enable-instant-analytics": "true", "formula": "min",
            "id": "refline0", "label": "Bank churn rate", "label-type": "custom", "scope": "per-table",
            "value-column": f"[{ds}].{sheet.reference_line.instance}", "z-order": "1",
        })  # fmt: skip
    if sheet.label:
        rule = _sub(_sub(pane, "style"), "style-rule", {"element": "mark"})
        _sub(rule, "format", {"attr": "mark-labels-show", "value": "true"})
    rows = _shelf(ds, sheet.rows, "+" if all(f.derivation != "None" for f in sheet.rows) else "/")
    cols = _shelf(ds, sheet.cols, "+" if all(f.derivation != "None" for f in sheet.cols) else "/")
    _sub(table, "rows", text=rows)
    _sub(table, "cols", text=cols)
    _sub(ws, "simple-id", {"uuid": _uuid("worksheet", sheet.name)})


def _filter_group(ds: str, index: int) -> int:
    """One filter group per shared filter of a source: the same number on every sheet makes it one filter."""
    return [s.name for s in SOURCES].index(ds) * 10 + index + 1


def _zone_style(zone: ET.Element, margin: str = "4") -> None:
    style = _sub(zone, "zone-style")
    for attr, value in (
        ("border-color", "#000000"),
        ("border-style", "none"),
        ("border-width", "0"),
        ("margin", margin),
    ):
        _sub(style, "format", {"attr": attr, "value": value})


def _dashboard(parent: ET.Element, name: str, sheet_names: tuple[str, ...]) -> None:
    dashboard = _sub(parent, "dashboard", {"name": name})
    _sub(dashboard, "style")
    _sub(dashboard, "size", {"maxheight": "900", "maxwidth": "1400", "minheight": "900", "minwidth": "1400"})
    zones = _sub(dashboard, "zones")
    root = _sub(zones, "zone", {"h": "100000", "id": "1", "type-v2": "layout-basic", "w": "100000", "x": "0", "y": "0"})
    next_id = 2
    sheets = [s for s in SHEETS if s.name in sheet_names]
    filters = SHARED_FILTERS[sheets[0].source.name]
    parameters = sorted({p for s in sheets for p in s.parameters})
    side = 16000  # the filter column's width (Tableau's units: 100000 = the whole dashboard)
    controls = len(filters) + len(parameters)
    for index, (column, kind, single, _default) in enumerate(filters):
        zone = _sub(root, "zone", {
            "h": str(10000), "id": str(next_id), "mode": "dropdown" if single else "checkdropdown",
            "name": sheets[0].name, "param": f"[{sheets[0].source.name}].{Field(column, 'None', kind).instance}",
            "type-v2": "filter", "values": "database", "w": str(side - 1600), "x": "800",
            "y": str(1000 + index * 11000),
        })  # fmt: skip
        _zone_style(zone)
        next_id += 1
    for index, parameter in enumerate(parameters, start=len(filters)):
        zone = _sub(root, "zone", {
            "h": "10000", "id": str(next_id), "mode": "compact", "param": parameter, "type-v2": "paramctrl",
            "w": str(side - 1600), "x": "800", "y": str(1000 + index * 11000),
        })  # fmt: skip
        _zone_style(zone)
        next_id += 1
    assert controls * 11000 < 100000
    columns = 2 if len(sheets) > 1 else 1
    grid_rows = -(-len(sheets) // columns)
    width = (100000 - side - 800) // columns
    height = 98000 // grid_rows
    for index, sheet in enumerate(sheets):
        row, col = divmod(index, columns)
        zone = _sub(root, "zone", {
            "h": str(height), "id": str(next_id), "name": sheet.name, "w": str(width),
            "x": str(side + col * width), "y": str(1000 + row * height),
        })  # fmt: skip
        _zone_style(zone)
        next_id += 1
    _zone_style(root, "8")
    _sub(dashboard, "simple-id", {"uuid": _uuid("dashboard", name)})


def _windows(parent: ET.Element) -> None:
    windows = _sub(parent, "windows", {"source-height": "30"})
    for name, sheet_names in DASHBOARDS:
        window = _sub(
            windows,
            "window",
            {"class": "dashboard", "maximized": "true" if name == DASHBOARDS[0][0] else None, "name": name},
        )
        viewpoints = _sub(window, "viewpoints")
        for sheet in sheet_names:
            _sub(viewpoints, "viewpoint", {"name": sheet})
        _sub(window, "active", {"id": "-1"})
        _sub(window, "simple-id", {"uuid": _uuid("window", name)})
    for sheet in SHEETS:
        window = _sub(windows, "window", {"class": "worksheet", "hidden": "true", "name": sheet.name})
        cards = _sub(window, "cards")
        left = _sub(_sub(cards, "edge", {"name": "left"}), "strip", {"size": "160"})
        for card in ("pages", "filters", "marks"):
            _sub(left, "card", {"type": card})
        top = _sub(cards, "edge", {"name": "top"})
        for card, size in (("columns", "2147483647"), ("rows", "2147483647"), ("title", "30")):
            _sub(_sub(top, "strip", {"size": size}), "card", {"type": card})
        _sub(window, "simple-id", {"uuid": _uuid("window", sheet.name)})


def _indented(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return "<?xml version='1.0' encoding='utf-8' ?>\n" + body + "\n"


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    return [(r[0], DATATYPES.get(r[1], "string")) for r in con.execute(f"describe main.{mart}").fetchall()]


def render(warehouse: Path) -> dict[str, str]:
    """The workbook and the data sources (.tds), as text, from the marts' columns in `warehouse`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = {source.name: _columns(con, source.mart) for source in SOURCES}
    finally:
        con.close()

    workbook = ET.Element("workbook", {
        "original-version": WORKBOOK_VERSION, "source-build": SOURCE_BUILD, "source-platform": "win",
        "version": WORKBOOK_VERSION,
    })  # fmt: skip
    manifest = _sub(workbook, "document-format-change-manifest")
    for flag in ("SheetIdentifierTracking", "WindowsPersistSimpleIdentifiers"):
        _sub(manifest, flag)
    preferences = _sub(workbook, "preferences")
    _sub(preferences, "preference", {"name": "ui.encoding.shelf.height", "value": "24"})
    _sub(preferences, "preference", {"name": "ui.shelf.height", "value": "26"})
    datasources = _sub(workbook, "datasources")
    _parameters_datasource(datasources)
    for source in SOURCES:
        _datasource(datasources, source, columns[source.name])
    worksheets = _sub(workbook, "worksheets")
    for sheet in SHEETS:
        _worksheet(worksheets, sheet, dict(columns[sheet.source.name]))
    dashboards = _sub(workbook, "dashboards")
    for name, sheet_names in DASHBOARDS:
        _dashboard(dashboards, name, sheet_names)
    _windows(workbook)
    # Explain Data off for viewers (the 2025.3 schema requires the element)
    explain = _sub(workbook, "explain-data", {"enabled-for-viewer": "false", "extreme-values-enabled-for-all": "false"})
    _sub(explain, "explanation-types")

    files = {WORKBOOK: _indented(workbook)}
    for source in SOURCES:
        root = ET.Element("x")
        ds = _datasource(root, source, columns[source.name])
        ds.set("formatted-name", source.caption)
        files[f"{source.mart}.tds"] = _indented(ds)
    root = ET.Element("x")
    duck = Source(CUSTOMERS.name.replace("customers", "duckdb"), "Metanprom customers (DuckDB)", CUSTOMERS.mart,
                  CUSTOMERS.calcs, CUSTOMERS.captions)  # fmt: skip
    ds = _datasource(root, duck, columns[CUSTOMERS.name], connect=_duckdb_connection)
    ds.set("formatted-name", duck.caption)
    files["metanprom_duckdb.tds"] = _indented(ds)
    return files


def write(warehouse: Path, directory: Path = TABLEAU_DIR) -> list[Path]:
    """Write the files of `render`, each atomically, and remove .tds files it no longer writes."""
    directory.mkdir(parents=True, exist_ok=True)
    files = render(warehouse)
    written = []
    for name, text in files.items():
        target = directory / name
        scratch = target.with_name(f".{name}.tmp")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(target)
        written.append(target)
    for stale in directory.glob("*.tds"):
        if stale.name not in files:
            stale.unlink()
    return written
