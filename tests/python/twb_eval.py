"""Evaluate a Tableau worksheet the way Tableau would, from the workbook file alone, in Hyper.

Reads a worksheet's shelves, filters, column instances and the data source's
calculated fields from the .twb, translates the formulas (the subset the
project's workbooks use: SUM AVG MIN MAX COUNT, IIF, CASE, STR, arithmetic and
comparisons, {FIXED ...} level-of-detail expressions, RANK table calculations)
to SQL and runs it against the .hyper file the data source points at, in
Tableau's order: context filters, then FIXED expressions, then the other
filters, then aggregation, then table calculations.

Nothing here knows what the workbook is meant to show: the tests compare what
this evaluation gives with the marts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tableauhyperapi import Connection, HyperProcess, Telemetry

USER = "{http://www.tableausoftware.com/xml/user}"
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")"
    r"|(?P<field>\[[^\]]+\](?:\.\[[^\]]+\])?)|(?P<op><>|!=|<=|>=|[-+*/=<>(),:{}])|(?P<word>[A-Za-z_]\w*))"
)
AGGREGATES = {"SUM", "AVG", "MIN", "MAX", "COUNT"}


def _aggregate(name: str, argument: str, window: str | None = None) -> str:
    """An aggregate as Tableau asks Hyper for it: averages of integers in double precision (Hyper's
    own AVG of an integer is a NUMERIC of 6 decimals)."""
    if name == "AVG":
        argument = f"CAST({argument} AS DOUBLE PRECISION)"
    over = f" OVER (PARTITION BY {window})" if window else ""
    return f"{name}({argument}){over}"


def _tokens(formula: str) -> list[tuple[str, str]]:
    out, position = [], 0
    formula = formula.strip()
    while position < len(formula):
        match = _TOKEN.match(formula, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read formula at {formula[position:]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


@dataclass
class Context:
    calcs: dict[str, str]  # calc name -> formula
    parameters: dict[str, str]  # '[Parameters].[Parameter 1]' -> SQL literal
    lods: list[tuple[str, str]]  # (alias, window SQL) computed on the context-filtered rows
    table_calcs: list[tuple[str, str]]  # (alias of the argument, function)


class _Parser:
    """Recursive descent over Tableau's formula grammar, emitting SQL."""

    def __init__(self, formula: str, ctx: Context, window: str | None = None) -> None:
        self.tokens = _tokens(formula)
        self.i = 0
        self.ctx = ctx
        self.window = window  # inside {FIXED ...}: the PARTITION BY clause for aggregates

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].upper() in words

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.i]
        if value is not None and token[1].upper() != value:
            raise ValueError(f"expected {value}, found {token[1]}")
        self.i += 1
        return token

    def parse(self) -> str:
        sql = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return sql

    def expr(self) -> str:
        left = self.conjunction()
        while self.word("OR"):
            self.take()
            left = f"({left} OR {self.conjunction()})"
        return left

    def conjunction(self) -> str:
        left = self.negation()
        while self.word("AND"):
            self.take()
            left = f"({left} AND {self.negation()})"
        return left

    def negation(self) -> str:
        if self.word("NOT"):
            self.take()
            return f"(NOT {self.negation()})"
        return self.comparison()

    def comparison(self) -> str:
        left = self.additive()
        token = self.peek()
        if token and token[0] == "op" and token[1] in ("=", "<>", "!=", "<", ">", "<=", ">="):
            self.take()
            op = "<>" if token[1] == "!=" else token[1]
            return f"({left} {op} {self.additive()})"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while (token := self.peek()) and token[0] == "op" and token[1] in "+-":
            self.take()
            left = f"({left} {token[1]} {self.multiplicative()})"
        return left

    def multiplicative(self) -> str:
        left = self.unary()
        while (token := self.peek()) and token[0] == "op" and token[1] in "*/":
            self.take()
            right = self.unary()
            # Tableau's / is always real division, and x / 0 is null
            left = (
                f"(CAST({left} AS DOUBLE PRECISION) / NULLIF({right}, 0))" if token[1] == "/" else f"({left} * {right})"
            )
        return left

    def unary(self) -> str:
        token = self.peek()
        if token and token == ("op", "-"):
            self.take()
            return f"(-{self.unary()})"
        return self.primary()

    def primary(self) -> str:
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "str":
            return "'" + value[1:-1].replace(value[0] * 2, value[0]).replace("'", "''") + "'"
        if kind == "field":
            return self.field(value)
        if value == "(":
            inner = self.expr()
            self.take(")")
            return f"({inner})"
        if value == "{":
            return self.lod()
        if kind == "word":
            upper = value.upper()
            if upper == "CASE":
                return self.case()
            if upper in ("TRUE", "FALSE"):
                return upper
            return self.function(upper)
        raise ValueError(f"unexpected {value}")

    def field(self, name: str) -> str:
        if name.startswith("[Parameters]"):
            return self.ctx.parameters[name]
        bare = name[1:-1]
        if bare in self.ctx.calcs:
            return "(" + _Parser(self.ctx.calcs[bare], self.ctx, self.window).parse() + ")"
        return '"' + bare + '"'

    def arguments(self) -> list[str]:
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.expr())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expr())
        self.take(")")
        return args

    def function(self, name: str) -> str:
        args = self.arguments()
        if name in AGGREGATES:
            return _aggregate(name, args[0], self.window)
        if name == "IIF":
            return f"(CASE WHEN {args[0]} THEN {args[1]} ELSE {args[2]} END)"
        if name == "STR":
            return f"CAST({args[0]} AS TEXT)"
        if name == "RANK":
            alias = f"tc_{len(self.ctx.table_calcs)}"
            self.ctx.table_calcs.append((alias, args[0]))
            return f"__table_calc__{alias}"
        raise ValueError(f"function {name} is not supported by this evaluator")

    def case(self) -> str:
        subject = self.expr()
        parts = []
        while self.word("WHEN"):
            self.take()
            match = self.expr()
            self.take("THEN")
            parts.append(f"WHEN {match} THEN {self.expr()}")
        if self.word("ELSE"):
            self.take()
            parts.append(f"ELSE {self.expr()}")
        self.take("END")
        return f"(CASE {subject} {' '.join(parts)} END)"

    def lod(self) -> str:
        self.take("FIXED")
        keys = [self.field(self.take()[1])]
        while self.peek() == ("op", ","):
            self.take()
            keys.append(self.field(self.take()[1]))
        self.take(":")
        body = _Parser.__new__(_Parser)
        body.tokens, body.i, body.ctx, body.window = self.tokens, self.i, self.ctx, ", ".join(keys)
        sql = body.expr()
        self.i = body.i
        self.take("}")
        alias = f"lod_{len(self.ctx.lods)}"
        self.ctx.lods.append((alias, sql))
        return f'"{alias}"'


@dataclass
class Worksheet:
    name: str
    datasource: str
    hyper: Path
    table: str
    dimensions: list[tuple[str, str]]  # (instance, column)
    measures: list[tuple[str, str, str]]  # (instance, column, derivation)
    table_calc_along: dict[str, list[str]]  # instance -> addressing columns
    filters: list[dict[str, object]]


def _instance_column(instance: str) -> str:
    return instance.strip("[]").split(":")[1]


def read(workbook: Path) -> tuple[dict[str, Worksheet], dict[str, dict[str, str]], dict[str, str]]:
    """The worksheets, each data source's calcs, and the parameters' current values (SQL literals)."""
    root = ET.parse(workbook).getroot()
    calcs: dict[str, dict[str, str]] = {}
    hypers: dict[str, tuple[Path, str]] = {}
    parameters: dict[str, str] = {}
    for ds in root.find("datasources"):
        name = ds.get("name")
        if name == "Parameters":
            for column in ds.findall("column"):
                value = column.get("value")
                parameters[f"[Parameters].{column.get('name')}"] = "'" + value.strip('"') + "'"
            continue
        calcs[name] = {
            c.get("name")[1:-1]: c.find("calculation").get("formula")
            for c in ds.findall("column")
            if c.find("calculation") is not None
        }
        conn = ds.find("connection/named-connections/named-connection/connection")
        hypers[name] = ((workbook.parent / conn.get("dbname")).resolve(), conn.get("tablename"))
    sheets = {}
    for ws in root.find("worksheets"):
        view = ws.find("table/view")
        ds = next(d.get("name") for d in view.find("datasources") if d.get("name") != "Parameters")
        deps = next(d for d in view.findall("datasource-dependencies") if d.get("datasource") == ds)
        instances = {ci.get("name"): ci for ci in deps.findall("column-instance")}
        shelf_text = " ".join(
            t for t in (ws.findtext("table/rows") or "", ws.findtext("table/cols") or "") if t
        )  # fmt: skip
        on_shelves = re.findall(r"\[" + re.escape(ds) + r"\]\.(\[[^\]]+\])", shelf_text)
        for pane in ws.findall("table/panes/pane"):
            for encoding in pane.find("encodings") if pane.find("encodings") is not None else []:
                on_shelves.append(encoding.get("column").split("].", 1)[1])
        dimensions, measures, along = [], [], {}
        for instance in dict.fromkeys(on_shelves):
            ci = instances[instance]
            column = ci.get("column")[1:-1]
            if ci.get("derivation") == "None":
                dimensions.append((instance, column))
            else:
                measures.append((instance, column, ci.get("derivation")))
            tc = ci.find("table-calc")
            if tc is not None:
                along[instance] = [_instance_column(o.get("field").split("].", 1)[1]) for o in tc.findall("order")]
        filters = []
        for f in view.findall("filter"):
            column = _instance_column(f.get("column").split("].", 1)[1])
            group = f.find("groupfilter")
            spec: dict[str, object] = {"column": column, "context": f.get("context") == "true"}
            if group.get("function") == "member":
                spec["keep"] = [group.get("member")]
            elif group.get("function") == "except":
                spec["drop"] = [g.get("member") for g in group.findall("groupfilter") if g.get("function") == "member"]
            filters.append(spec)
        hyper, table = hypers[ds]
        sheets[ws.get("name")] = Worksheet(
            ws.get("name"), ds, hyper, table, dimensions, measures, along, filters
        )  # fmt: skip
    return sheets, calcs, parameters


def _literal(member: str) -> str:
    return "'" + member[1:-1].replace("'", "''") + "'" if member.startswith('"') else member


def _condition(spec: dict[str, object], overrides: dict[str, list[str]]) -> str | None:
    column = str(spec["column"])
    if column in overrides:
        values = ", ".join(_literal(f'"{v}"' if isinstance(v, str) else str(v)) for v in overrides[column])
        return f'"{column}" IN ({values})'
    if "keep" in spec:
        return f'"{column}" IN ({", ".join(_literal(m) for m in spec["keep"])})'  # type: ignore[union-attr]
    if "drop" in spec:
        return f'"{column}" NOT IN ({", ".join(_literal(m) for m in spec["drop"])})'  # type: ignore[union-attr]
    return None


def sql(
    sheet: Worksheet,
    calcs: dict[str, str],
    parameters: dict[str, str],
    filters: dict[str, list[str]] | None = None,
    parameter_values: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The SQL that computes the sheet, and its output columns (the shelves' instances, in order).

    filters: values chosen in the sheet's filters, by column (e.g. {"city": ["Rybinsk"]});
    parameter_values: a parameter's chosen value, by its name.
    """
    overrides = filters or {}
    values = dict(parameters)
    for name, value in (parameter_values or {}).items():
        values[name] = "'" + value.replace("'", "''") + "'"
    ctx = Context(calcs, values, [], [])
    dims = [(instance, _Parser(f"[{column}]", ctx).parse()) for instance, column in sheet.dimensions]
    measures = []
    for instance, column, derivation in sheet.measures:
        if derivation == "User":
            expression = _Parser(calcs[column], ctx).parse()
        else:
            expression = _aggregate(derivation.upper(), _Parser(f"[{column}]", ctx).parse())
        measures.append((instance, expression))
    context = [c for spec in sheet.filters if spec["context"] and (c := _condition(spec, overrides))]
    other = [c for spec in sheet.filters if not spec["context"] and (c := _condition(spec, overrides))]
    lods = "".join(f', {window} AS "{alias}"' for alias, window in ctx.lods)
    base = f'SELECT *{lods} FROM "Extract"."{sheet.table}"' + (f" WHERE {' AND '.join(context)}" if context else "")
    select = [f'{expression} AS "d{i}"' for i, (_, expression) in enumerate(dims)]
    table_args = {alias: argument for alias, argument in ctx.table_calcs}
    outer = []
    for i, (instance, expression) in enumerate(measures):
        match = re.fullmatch(r"\(?__table_calc__(tc_\d+)\)?", expression)
        if match:
            alias = match.group(1)
            select.append(f'{table_args[alias]} AS "{alias}"')
            along = sheet.table_calc_along.get(instance, [])
            partition = [f'"d{j}"' for j, (_, column) in enumerate(sheet.dimensions) if column not in along]
            over = (f"PARTITION BY {', '.join(partition)} " if partition else "") + f'ORDER BY "{alias}" DESC'
            outer.append(f'RANK() OVER ({over}) AS "m{i}"')
        else:
            select.append(f'{expression} AS "m{i}"')
            outer.append(f'"m{i}"')
    group = f" GROUP BY {', '.join(f'{j + 1}' for j in range(len(dims)))}" if dims else ""
    where = f" WHERE {' AND '.join(other)}" if other else ""
    aggregated = f"SELECT {', '.join(select)} FROM ({base}) AS base{where}{group}"
    dimension_columns = [f'"d{j}"' for j in range(len(dims))]
    final = f"SELECT {', '.join(dimension_columns + outer)} FROM ({aggregated}) AS aggregated"
    return final, [instance for instance, _ in dims] + [instance for instance, _ in measures]


def evaluate(
    sheet: Worksheet,
    calcs: dict[str, str],
    parameters: dict[str, str],
    hyper: HyperProcess,
    filters: dict[str, list[str]] | None = None,
    parameter_values: dict[str, str] | None = None,
) -> list[dict[str, object]]:
    """The sheet's marks: one dict per mark, keyed by column instance ('[none:city:nk]', '[usr:...:qk]')."""
    query, columns = sql(sheet, calcs, parameters, filters, parameter_values)
    with Connection(hyper.endpoint, str(sheet.hyper)) as connection:
        rows = connection.execute_list_query(query)
    # Hyper's AVG of an integer is NUMERIC; Tableau shows every aggregate of numbers as a number
    rows = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in rows]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def hyper_process(log_dir: Path) -> HyperProcess:
    return HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_dir": str(log_dir)})
