"""Text that reaches SQL: the one way a path or a user's value is quoted (DuckDB's and Hyper's rules).

Where the engine binds parameters (`con.execute(sql, [value])`), bind instead; a
table function's or COPY's file name cannot always be bound, so it goes through
`sql_string`. The dbt side has the same rule in the macro `sql_string`.
"""

from __future__ import annotations

import math
from pathlib import Path


def sql_string(value: str | Path) -> str:
    """`value` as a SQL string literal: a quote in it is doubled and never ends the literal."""
    text = str(value)
    if "\x00" in text:
        raise ValueError(f"{text!r}: a NUL character cannot be part of a SQL string")
    return "'" + text.replace("'", "''") + "'"


#: md5_order's values are uniform over [0, MD5_ORDER_RANGE): a cut-off c keeps about c / MD5_ORDER_RANGE of the rows
MD5_ORDER_RANGE = 2**60


def md5_cut_off(wanted: int, total: int) -> int | None:
    """A cut-off of md5_order below which about a quarter more than the `wanted` first of `total` rows lie (and
    1,000 more), so a query reads and orders those instead of every row; None when that would be every row. The
    caller checks it got `wanted` rows and otherwise orders every row."""
    cut = math.ceil((1.25 * wanted + 1000) / max(total, 1) * MD5_ORDER_RANGE)
    return cut if cut < MD5_ORDER_RANGE else None


def md5_order(text: str) -> str:
    """SQL: the first 60 bits (15 hexadecimal digits) of the md5 of the SQL expression `text`, as a positive BIGINT:
    an order that is the same on every run and engine (the dbt macro `sample_order` renders the same form)."""
    return f"('0x' || left(md5({text}), 15))::bigint"


def sql_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier (a column whose name a user chose)."""
    if "\x00" in name:
        raise ValueError(f"{name!r}: a NUL character cannot be part of a SQL name")
    return '"' + name.replace('"', '""') + '"'
