"""Two groups' sufficient statistics, computed by the engine where the customers are.

A hypothesis compares a measure between group a and group b. Instead of
pulling every customer's value into Python, the engine returns the few
numbers each test needs. The customers are read once per measure: one
aggregate counts each distinct value of the measure in group a and in group
b, for every pair of groups compared on that measure in that extract
(`SharedCounts`: salary by products and salary by churn share one read and
one sort), with each group's running count in the order of the values; it
is kept (how many customers are in both groups is one count beside it). On
DuckDB the running counts are cumulative sums over the ordered aggregate,
fetched as Arrow (for money, whose values are mostly distinct, DuckDB
sorts the rows instead and each run of equal values is counted here, which
is cheaper than an aggregate that hardly shrinks them); another engine
(Spark) computes them with a window.
Everything else comes from that table, which has as
many rows as the measure has distinct values (a few dozen for an age or a
score, at most one per customer for money):

- sizes, whether the measure is 0/1, how many are in both groups, and the
  means (`summary`);
- central moments, in two passes (mean first) so large money values lose no
  precision (`moments`), optionally inside trimming bounds;
- from the values in order with their running counts: the 1 %, 50 % and
  99 % quantiles by linear interpolation, numpy's default (`quantiles`), and
  Mann-Whitney's rank sum of group a with average ranks for ties and the
  tie term sum(t^3 - t) over tied values, whole and inside trimming bounds
  (`rank_sums`);
- counts per category (`crosstab`);
- the values of a fixed sample: the customers first in the project's sample
  order (`frames.SAMPLE_ORDER`: the md5 of their key and the project's seed,
  stored once per customer), the same on every run and every engine
  (`sample`; read past a cut-off of that order, so the engine does not order
  the whole group).

`TwoGroups.from_arrays` puts two arrays in an in-memory DuckDB relation, so
tests (and callers holding arrays) take the same route.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metanprom.sqltext import md5_cut_off, sql_string
from metanprom.statistics.frames import SAMPLE_ORDER, SAMPLE_ORDER_SQL

TRIM = 0.01
QUANTILE_LEVELS = (TRIM, 0.5, 1 - TRIM)
#: three floats: the sums of (y - mean)^2, ^3, ^4, or the 1 %, 50 % and 99 % quantiles
_Triple = tuple[float, float, float]
#: over a pair's value counts (`SharedCounts.counts`): the values its own groups have
HAS_VALUE = "t_a > 0 or t_b > 0"
_LOCAL = threading.local()
#: the rows of each Arrow batch DuckDB hands over (60 vectors of 2,048)
_ARROW_BATCH_ROWS = 122_880


@dataclass(frozen=True)
class Moments:
    n: int
    mean: float
    #: sums of (y - mean)^k for k = 2, 3, 4
    s2: float
    s3: float
    s4: float

    @property
    def variance(self) -> float:
        """Sample variance (ddof = 1)."""
        return self.s2 / (self.n - 1) if self.n > 1 else float("nan")

    def _central(self) -> tuple[float, float, float]:
        return self.s2 / self.n, self.s3 / self.n, self.s4 / self.n

    def _is_constant(self) -> bool:
        # scipy.stats.skew/kurtosis treat a variance below the mean's float resolution as zero
        m2 = self.s2 / self.n
        return bool(m2 <= (np.finfo(np.float64).resolution * self.mean) ** 2)

    @property
    def skewness(self) -> float:
        """Biased sample skewness, as scipy.stats.skew's default."""
        if self.n <= 2 or self._is_constant():
            return float("nan")
        m2, m3, _ = self._central()
        return float(m3 / m2**1.5)

    @property
    def excess_kurtosis(self) -> float:
        """Biased excess (Fisher) kurtosis, as scipy.stats.kurtosis' default."""
        if self.n <= 3 or self._is_constant():
            return float("nan")
        m2, _, m4 = self._central()
        return float(m4 / m2**2 - 3.0)


@dataclass(frozen=True)
class RankSums:
    n_a: int
    n_b: int
    #: sum of group a's average ranks in the pooled sample
    rank_sum_a: float
    #: sum over tied values of t^3 - t (t: how many share the value)
    tie_term: float


class SharedCounts:
    """The value counts of one measure for several pairs of groups of one extract, from one read of the rows.

    `rows` has the measure `y` and, for pair i, the flags a{i} and b{i}: one row per customer in some pair's
    groups with a value of the measure. One aggregate counts each distinct value in group a (a{i}) and in group
    b (b{i} and not a{i}), and one sort of the values adds each group's running count (values up to and
    including this one); the result is kept, and every pair reads its own columns from it (`counts`). So the
    hypotheses on one measure of one extract share one read of the customers and, for money, one sort of
    millions of distinct values. How many customers are in both groups of a pair (`overlaps`) is counted by the
    same aggregate on DuckDB, and by one more aggregate over the rows on another engine; it is not a column of
    the kept table."""

    def __init__(self, rows: duckdb.DuckDBPyRelation, pairs: int) -> None:
        self.rows = rows
        self.pairs = pairs
        self._kept: duckdb.DuckDBPyRelation | None = None
        self._overlaps: list[int] | None = None
        # the DuckDB connection of a DuckDB relation (DuckDB 2.0's relation keeps it as `_con`); None on another
        # engine (Spark), whose kept table comes from a window in SQL
        connection = getattr(rows, "_con", None)
        self._duckdb = connection if isinstance(connection, duckdb.DuckDBPyConnection) else None

    def _table(self) -> duckdb.DuckDBPyRelation:
        if self._kept is None:
            counts = ", ".join(
                f"count(*) filter (where a{i}) as t_a{i}, count(*) filter (where b{i} and not a{i}) as t_b{i}"
                for i in range(self.pairs)
            )
            if self._duckdb is not None:
                self._kept = self._ordered_on_duckdb(self._duckdb, counts)
            else:
                # a running count is at most the rows': bigint, as the counts are (a sum's own type is wider)
                running = ", ".join(
                    f"cast(sum(t_a{i}) over running as bigint) as cum_a{i},"
                    f" cast(sum(t_b{i}) over running as bigint) as cum_b{i}"
                    for i in range(self.pairs)
                )
                self._kept = self.rows.query(
                    "g",
                    f"with v as (select y, {counts} from g group by y) select v.*, {running} from v"
                    " window running as (order by y rows between unbounded preceding and current row)",
                ).materialize()
        return self._kept

    def _ordered_on_duckdb(self, connection: duckdb.DuckDBPyConnection, counts: str) -> duckdb.DuckDBPyRelation:
        """The kept table on DuckDB: the value counts, ordered by the values, fetched as Arrow batches, to each of
        which a cumulative sum (carried on from the batch before) adds the running counts; DuckDB keeps the
        batches as they come back. DuckDB's window adds about 2 s to a money measure's table of 8 million
        distinct values (a segment tree per running count: 2.8-3.5 s for the whole table, against 1.9 s this
        way). The overlaps are counted with the value counts, so they need no read of their own.

        The value counts come from DuckDB's aggregate, ordered; for a measure of floating-point numbers (money:
        about one distinct value per customer, so an aggregate would hardly shrink the rows) from the rows
        sorted by the value instead, each run of equal values counted here (`_counted_runs`): at 10 million
        customers 1.2-1.7 s against 1.8-2.3 s for the aggregate and its sort. The same table either way."""
        counted = [f"t_{letter}{i}" for i in range(self.pairs) for letter in "ab"]
        table = self._counted_runs() if self._sorts_rows() else None
        if table is None:
            both = ", ".join(f"count(*) filter (where a{i} and b{i}) as t_ab{i}" for i in range(self.pairs))
            table = self.rows.query("g", f"select y, {counts}, {both} from g group by y order by y").to_arrow_table()
            self._overlaps = [int(pc.sum(table[f"t_ab{i}"]).as_py() or 0) for i in range(self.pairs)]
        table = table.select(["y", *counted])
        schema = table.schema
        for name in counted:
            schema = schema.append(pa.field(f"cum_{name[2:]}", pa.int64()))
        # in DuckDB's own batches (the sorted rows' runs too): the kept table, and every sum over it, is laid out alike
        batches = deque(table.to_batches(max_chunksize=_ARROW_BATCH_ROWS))
        del table

        def running() -> Iterator[pa.RecordBatch]:
            carried = dict.fromkeys(counted, 0)
            while batches:
                batch = batches.popleft()  # let go once DuckDB has it: the rows are held once, not twice
                sums = [pc.cumulative_sum(batch[name], start=carried[name]) for name in counted]
                if batch.num_rows:
                    carried = {name: total[-1].as_py() for name, total in zip(counted, sums, strict=True)}
                yield pa.RecordBatch.from_arrays([*batch.columns, *sums], schema=schema)

        # kept in DuckDB's own memory (0.1 s for 8 million rows), not as Arrow: under its memory limit, and
        # spilled to disk where the limit asks for it, as any relation it materialises
        return connection.from_arrow(pa.RecordBatchReader.from_batches(schema, running())).materialize()

    def _sorts_rows(self) -> bool:
        """Whether the value counts come from the sorted rows (`_counted_runs`): for a floating-point measure."""
        return str(self.rows.types[self.rows.columns.index("y")]) in ("DOUBLE", "FLOAT")

    def _counted_runs(self) -> pa.Table | None:
        """The aggregate's table (y, then t_a{i} and t_b{i} for each pair, ordered by y) from the rows sorted by
        their value: each run of equal values is one distinct value, its counts the run's flags summed (a flag
        that is null counts as false, as in a filter). Sets the overlaps. None when some value is null (the
        aggregate's route then counts them as one group of its own)."""
        flags = ", ".join(f"coalesce(a{i}, false) as a{i}, coalesce(b{i}, false) as b{i}" for i in range(self.pairs))
        rows = self.rows.query("g", f"select y, {flags} from g order by y").to_arrow_table()
        if rows["y"].null_count:
            return None
        y = rows["y"].to_numpy()
        # where a run starts: a value unlike the one before it (NaN is like NaN, as in a grouping)
        differs = y[1:] != y[:-1]
        differs &= ~(np.isnan(y[1:]) & np.isnan(y[:-1]))
        starts = np.flatnonzero(np.r_[len(y) > 0, differs])
        columns: dict[str, np.ndarray] = {}
        overlaps = []
        for i in range(self.pairs):
            in_a = rows[f"a{i}"].to_numpy(zero_copy_only=False)
            in_b = rows[f"b{i}"].to_numpy(zero_copy_only=False)
            for name, flag in ((f"t_a{i}", in_a), (f"t_b{i}", in_b & ~in_a)):
                columns[name] = np.add.reduceat(flag, starts, dtype=np.int64)
            overlaps.append(int(np.count_nonzero(in_a & in_b)))
        self._overlaps = overlaps
        return pa.table({"y": pa.array(y[starts], type=rows.schema.field("y").type), **columns})

    def overlaps(self) -> list[int]:
        """How many customers are in both groups, for each pair."""
        if self._overlaps is None and self._duckdb is not None:
            self._table()  # its aggregate counts them
        if self._overlaps is None:
            both = ", ".join(f"count(*) filter (where a{i} and b{i})" for i in range(self.pairs))
            self._overlaps = [int(n) for n in self.rows.aggregate(both).fetchall()[0]]
        return self._overlaps

    def counts(self, pair: int) -> duckdb.DuckDBPyRelation:
        """Pair `pair`'s counts: y, t_a, t_b, cum_a, cum_b. Its rows include the values only other pairs' groups
        have, with counts of 0 (`HAS_VALUE` tells them apart): they add nothing to a sum over counts, and a
        running count does not grow there, so the first value where it passes a position is one of the pair's
        own. Not filtered out, because every statistic reads these rows (millions, for money) again."""
        return self._table().project(
            f"y, t_a{pair} as t_a, t_b{pair} as t_b, cum_a{pair} as cum_a, cum_b{pair} as cum_b"
        )


class TwoGroups:
    """Group a and group b of one extract: an in_a flag and the measure `y`, one row per customer."""

    def __init__(self, relation: duckdb.DuckDBPyRelation, shared: SharedCounts | None = None, pair: int = 0) -> None:
        # columns: in_a, in_b (booleans), y (the measure), customer_key (text), sample_order (frames.SAMPLE_ORDER);
        # customers in a or in b (group b: not in a), y not null. `shared`: their value counts, computed with
        # other pairs' (this is its pair `pair`); by default, their own.
        self.relation = relation
        # every customer here is in a or in b: b0 holds for those not in a, and for those in both
        self._shared = shared or SharedCounts(relation.project("y, in_a as a0, in_b or not in_a as b0"), 1)
        self._pair = pair if shared else 0
        self._counts: duckdb.DuckDBPyRelation | None = None
        self._ranks: dict[tuple, RankSums] = {}
        self._summary: dict[str, int | bool | float] | None = None
        self._sums: dict[bool, _Triple] | None = None
        self._quantiles: dict[bool, _Triple] | None = None

    @classmethod
    def from_customers(
        cls, customers: duckdb.DuckDBPyRelation, extract: str, measure: str, pairs: list[tuple[str, str]]
    ) -> list[TwoGroups]:
        """Each pair (group a's SQL, group b's) of `customers` (aliased so: group SQL may refer to it) in one
        extract, compared on `measure`; the pairs share their value counts (`SharedCounts`).

        Not materialised: the counts read the customers once for all pairs, and a sample reads them again (a
        scan of a few columns, cheaper than a copy of millions of rows held beside the other models)."""
        customers = customers.set_alias("customers")
        in_extract = f"extract = {sql_string(extract)} and ({measure}) is not null"
        groups = [
            customers.filter(f"{in_extract} and (({where_a}) or ({where_b}))").project(
                f"coalesce(({where_a}), false) as in_a, coalesce(({where_b}), false) as in_b, {measure} as y,"
                " customer_key, sample_order"
            )
            for where_a, where_b in pairs
        ]
        in_any = " or ".join(f"({where_a}) or ({where_b})" for where_a, where_b in pairs)
        flags = ", ".join(
            f"coalesce(({where_a}), false) as a{i}, coalesce(({where_b}), false) as b{i}"
            for i, (where_a, where_b) in enumerate(pairs)
        )
        rows = customers.filter(f"{in_extract} and ({in_any})").project(f"{measure} as y, {flags}")
        shared = SharedCounts(cls._numeric(rows), len(pairs))
        return [cls(cls._numeric(rel), shared, i) for i, rel in enumerate(groups)]

    @staticmethod
    def _numeric(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        # a yes/no measure is a 0/1 one
        if rel.types[rel.columns.index("y")] == duckdb.sqltype("boolean"):
            others = ", ".join(column for column in rel.columns if column != "y")
            return rel.project(f"y::integer as y, {others}")
        return rel

    @classmethod
    def from_arrays(cls, a: np.ndarray, b: np.ndarray) -> TwoGroups:
        """Two arrays as groups (keys made up from their positions), on a connection of their own."""
        frame = pd.DataFrame(
            {
                "in_a": np.r_[np.ones(len(a), dtype=bool), np.zeros(len(b), dtype=bool)],
                "y": np.concatenate([np.asarray(a), np.asarray(b)]),
                "customer_key": np.char.add(
                    np.r_[np.full(len(a), "a"), np.full(len(b), "b")],
                    np.r_[np.arange(len(a)), np.arange(len(b))].astype(str),
                ),
            }
        )
        if not hasattr(_LOCAL, "con"):
            _LOCAL.con = duckdb.connect()  # one in-memory connection per thread, reused
        rel = _LOCAL.con.from_df(frame).project(
            f"in_a, false as in_b, y, customer_key, {SAMPLE_ORDER_SQL} as sample_order"
        )
        return cls(cls._numeric(rel))

    def _sql(self, query: str) -> duckdb.DuckDBPyRelation:
        return self.relation.query("g", query)

    # the two below are kept: asking a relation of DuckDB 2.0 for an attribute or its types binds it again (about
    # a millisecond each; hundreds of times in a build of hypothesis_results, at any size)
    @cached_property
    def _dialect(self) -> str:
        """The engine's SQL where it differs from DuckDB's: `spark` for the Python step's Spark relations."""
        return getattr(self.relation, "dialect", "duckdb")

    @property
    def _wide_integer(self) -> str:
        """An integer type wider than 64 bits, for twice a rank sum."""
        return "decimal(38, 0)" if self._dialect == "spark" else "hugeint"

    @cached_property
    def is_categorical(self) -> bool:
        return self.relation.types[self.relation.columns.index("y")] == duckdb.sqltype("varchar")

    def _value_counts(self) -> duckdb.DuckDBPyRelation:
        """Each distinct value with how many customers of group a and of group b have it (t_a, t_b) and each
        group's running count in the order of the values (cum_a, cum_b), other pairs' values counting 0 (see
        `SharedCounts.counts`): every statistic but the overlap and the samples comes from it."""
        if self._counts is None:
            self._counts = self._shared.counts(self._pair)
        return self._counts

    def _on_counts(self, aggregates: str, over: str | None = None) -> tuple:
        """The one row of `aggregates` over the value counts, or over `over` (expressions of their columns).

        The relation's own `aggregate` and `project`, not a query over it by name: on DuckDB 2.0 a named query
        registers the name in the catalog for the call, after which every relation in use is bound again (about
        300 binds, ~0.4 s, in a 10,000-row build of hypothesis_results)."""
        counts = self._value_counts()
        return (counts if over is None else counts.project(over)).aggregate(aggregates).fetchall()[0]

    def summary(self) -> dict[str, int | bool | float]:
        """n_a, n_b, how many customers are in both groups (`overlap`), whether every value is 0 or 1 (a 0/1
        measure), how many 1s each group has, and each group's mean (`mean_a`, `mean_b`; NaN for a categorical
        measure or an empty group): from the value counts, kept; the overlap from the rows (`SharedCounts`)."""
        if self._summary is None:
            if self.is_categorical:
                numeric = "false, 0, 0, null::double, null::double"
            else:
                numeric = (
                    f"coalesce(bool_and(y = 0 or y = 1) filter (where {HAS_VALUE}), false),"
                    " coalesce(sum(t_a) filter (where y = 1), 0), coalesce(sum(t_b) filter (where y = 1), 0),"
                    " sum(t_a * y::double) / nullif(sum(t_a), 0), sum(t_b * y::double) / nullif(sum(t_b), 0)"
                )
            row = self._on_counts(f"coalesce(sum(t_a), 0), coalesce(sum(t_b), 0), {numeric}")
            n_a, n_b, is_binary, ones_a, ones_b, mean_a, mean_b = row
            overlap = self._shared.overlaps()[self._pair]
            self._summary = {
                "n_a": int(n_a), "n_b": int(n_b), "overlap": int(overlap), "is_binary": bool(is_binary),
                "ones_a": int(ones_a), "ones_b": int(ones_b),
                "mean_a": float("nan") if mean_a is None else float(mean_a),
                "mean_b": float("nan") if mean_b is None else float(mean_b),
            }  # fmt: skip
        return self._summary

    @staticmethod
    def _between(low: float, high: float) -> str:
        """y within [low, high], the bounds as exact double literals."""
        return f"y >= {_double(low)} and y <= {_double(high)}"

    @staticmethod
    def _column(group: bool) -> str:
        return "t_a" if group else "t_b"

    def _moment_sums(
        self, means: dict[bool, float], bounds: dict[bool, tuple[float, float]] | None
    ) -> dict[bool, _Triple]:
        """Each group's sums of (y - mean)^k for k = 2, 3, 4 (inside `bounds` if given), from the value counts."""
        parts = []
        for group in (True, False):
            within = f" filter (where {self._between(*bounds[group])})" if bounds else ""
            # the powers as products of the distance: an engine's power() is several times slower per row
            d = f"d_{self._column(group)}"
            parts += [f"sum({self._column(group)} * {' * '.join([d] * k)}){within}" for k in (2, 3, 4)]
        distances = ", ".join(f"y::double - {_double(means[g])} as d_{self._column(g)}" for g in (True, False))
        values = self._on_counts(", ".join(parts), over=f"y, t_a, t_b, {distances}")
        return {
            group: tuple(0.0 if v is None else float(v) for v in values[3 * i : 3 * i + 3])
            for i, group in enumerate((True, False))
        }

    def moments(self, bounds: dict[bool, tuple[float, float]] | None = None) -> dict[bool, Moments]:
        """Each group's size, mean and central moment sums (True: group a), in two passes over the value counts:
        the means, then the sums of powers of the distances to them (no loss of precision on large money
        values). Without bounds, the sizes and means are the summary's."""
        if not bounds:
            summary = self.summary()
            sizes = {True: (summary["n_a"], summary["mean_a"]), False: (summary["n_b"], summary["mean_b"])}
            if self._sums is None:
                self._sums = self._moment_sums({g: mean for g, (_, mean) in sizes.items()}, None)
            sums = self._sums
        else:
            parts = []
            for group in (True, False):
                column, within = self._column(group), self._between(*bounds[group])
                parts += [
                    f"coalesce(sum({column}) filter (where {within}), 0)",
                    f"sum({column} * y::double) filter (where {within})"
                    f" / nullif(sum({column}) filter (where {within}), 0)",
                ]
            row = self._on_counts(", ".join(parts))
            sizes = {True: (row[0], row[1]), False: (row[2], row[3])}
            if not any(n for n, _ in sizes.values()):
                sums = {True: (0.0, 0.0, 0.0), False: (0.0, 0.0, 0.0)}
            else:
                means = {g: 0.0 if mean is None else float(mean) for g, (_, mean) in sizes.items()}
                sums = self._moment_sums(means, bounds)
        return {
            group: Moments(int(n), float(mean), *sums[group]) if n else Moments(0, float("nan"), 0.0, 0.0, 0.0)
            for group, (n, mean) in sizes.items()
        }

    def quantiles(self) -> dict[bool, _Triple]:
        """Each group's (1 %, 50 %, 99 %) quantiles, linearly interpolated as numpy's default does it (between the
        values at positions floor and ceiling of (n - 1) p of the sorted group); an empty group has none. The
        values at those positions are read from the running counts: the first value whose count passes it."""
        if self._quantiles is None:
            summary = self.summary()
            wanted: list[tuple[bool, float, int, int]] = []
            for group in (True, False):
                n = int(summary["n_a" if group else "n_b"])
                if n == 0:
                    continue
                for level in QUANTILE_LEVELS:
                    position = (n - 1) * level
                    low = math.floor(position)
                    wanted.append((group, position - low, low, min(low + 1, n - 1)))
            found: dict[bool, list[float]] = {}
            if wanted:
                picks = ", ".join(
                    f"min(y::double) filter (where cum_{'a' if group else 'b'} > {index})"
                    for group, _, low, high in wanted
                    for index in (low, high)
                )
                values = self._on_counts(picks)
                for i, (group, fraction, _, _) in enumerate(wanted):
                    found.setdefault(group, []).append(_lerp(float(values[2 * i]), float(values[2 * i + 1]), fraction))
            self._quantiles = {group: (q[0], q[1], q[2]) for group, q in found.items()}
        return self._quantiles

    def rank_sums(self, bounds: dict[bool, tuple[float, float]] | None = None) -> RankSums:
        """Mann-Whitney's sufficient statistics: sizes, group a's rank sum (average ranks), the tie term.

        From the ordered value counts: inside `bounds`, a value keeps group a's count where it lies within group
        a's bounds and group b's where within group b's. Kept from `rank_sums_with` when it computed these."""
        key = self._bounds_key(bounds)
        if key not in self._ranks:
            self._ranks[key] = self._rank_sums([bounds])[0]
        return self._ranks[key]

    def rank_sums_with(self, bounds: dict[bool, tuple[float, float]]) -> tuple[RankSums, RankSums]:
        """The whole groups' rank sums and those inside `bounds`, in one read of the ordered value counts; both
        are kept for `rank_sums`."""
        whole, trimmed = self._rank_sums([None, bounds])
        self._ranks[self._bounds_key(None)] = whole
        self._ranks[self._bounds_key(bounds)] = trimmed
        return whole, trimmed

    @staticmethod
    def _bounds_key(bounds: dict[bool, tuple[float, float]] | None) -> tuple:
        return tuple(sorted(bounds.items())) if bounds else ()

    def _rank_sums(self, all_bounds: list[dict[bool, tuple[float, float]] | None]) -> list[RankSums]:
        """Rank sums for each of `all_bounds` (None: the whole groups), from the ordered value counts with no
        second sort: how many kept values of a group lie below a value follows from the group's running count.
        With A = the group's values below y (its running count less its own), those kept (within [low, high])
        number min(A, the group's values <= high) - min(A, its values < low): two counts per group, read first.
        A value no group keeps counts 0 everywhere, so it ranks nothing."""
        edges = self._bound_counts([bounds for bounds in all_bounds if bounds])
        kept, sums = [], []
        for i, bounds in enumerate(all_bounds):
            for group, letter in ((True, "a"), (False, "b")):
                below = f"(cum_{letter} - t_{letter})"
                if bounds:
                    before, through = edges[(group, *bounds[group])]
                    kept += [
                        f"case when {self._between(*bounds[group])} then t_{letter} else 0 end as {letter}{i}",
                        f"least({below}, {through}) - least({below}, {before}) as below_{letter}{i}",
                    ]
                else:
                    kept += [f"t_{letter} as {letter}{i}", f"{below} as below_{letter}{i}"]
            sums.append(
                f"coalesce(sum(a{i}), 0), coalesce(sum(b{i}), 0),"
                # twice the rank sum, in integers: a tied value's average rank is below + (t + 1) / 2
                f" coalesce(sum(cast(a{i} as {self._wide_integer})"
                f" * (2 * (below_a{i} + below_b{i}) + a{i} + b{i} + 1)), 0),"
                f" coalesce(sum((a{i} + b{i})::double * (a{i} + b{i}) * (a{i} + b{i}) - (a{i} + b{i})), 0)"
            )
        row = self._on_counts(", ".join(sums), over=", ".join(kept))
        return [
            RankSums(int(row[4 * i]), int(row[4 * i + 1]), int(row[4 * i + 2]) / 2, float(row[4 * i + 3]))
            for i in range(len(all_bounds))
        ]

    def _bound_counts(self, all_bounds: list[dict[bool, tuple[float, float]]]) -> dict[tuple, tuple[int, int]]:
        """For each group and (low, high) of `all_bounds`: how many of the group's values lie below low, and how
        many at or below high; one aggregate over the value counts."""
        wanted = sorted({(group, *bounds[group]) for bounds in all_bounds for group in (True, False)})
        if not wanted:
            return {}
        parts = []
        for group, low, high in wanted:
            column = self._column(group)
            parts += [
                f"coalesce(sum({column}) filter (where y < {_double(low)}), 0)",
                f"coalesce(sum({column}) filter (where y <= {_double(high)}), 0)",
            ]
        row = self._on_counts(", ".join(parts))
        return {key: (int(row[2 * i]), int(row[2 * i + 1])) for i, key in enumerate(wanted)}

    def crosstab(self) -> tuple[list[str], np.ndarray]:
        """Categories in sorted order, and the 2 x k table of counts (row 0: group a)."""
        counts = sorted(self._value_counts().filter(HAS_VALUE).project("y, t_a, t_b").fetchall(), key=lambda r: r[0])
        table = np.array([[r[1] for r in counts], [r[2] for r in counts]], dtype=np.int64)
        return [r[0] for r in counts], table

    def sample(self, in_a: bool, size: int | None = None) -> np.ndarray:
        """Group a's (or b's) values: all of them, or the `size` customers first in SAMPLE_ORDER.

        The first ones are read below a cut-off of sample_order (an md5 order: `md5_cut_off`)
        where the group's size expects about a quarter more than `size` customers, so the engine orders those, not
        the whole group; should the cut-off hold too few, the whole group is ordered. The same values either way."""
        group = f"in_a = {str(in_a).lower()}"
        if size is None:
            values = self._sql(f"select y from g where {group}").fetchnumpy()["y"]
        else:
            first = f"order by {SAMPLE_ORDER} limit {int(size)}"
            n = int(self.summary()["n_a" if in_a else "n_b"])
            wanted = min(int(size), n)
            cut = md5_cut_off(wanted, n)
            values = None
            if cut is not None:
                values = self._sql(f"select y from g where {group} and sample_order < {cut} {first}").fetchnumpy()["y"]
            if values is None or len(values) < wanted:
                values = self._sql(f"select y from g where {group} {first}").fetchnumpy()["y"]
        if self.is_categorical:
            return np.asarray(values, dtype=object)
        return np.asarray(values, dtype=float)


def _double(value: float) -> str:
    """A float as an exact SQL double literal."""
    return f"cast('{float(value)!r}' as double)"


def _lerp(low: float, high: float, fraction: float) -> float:
    """numpy's linear interpolation between two sorted values (numpy.lib's _lerp: from the upper value when the
    fraction is at least one half), so a quantile is numpy.quantile's to the last bit."""
    if fraction >= 0.5:
        return high - (high - low) * (1 - fraction)
    return low + (high - low) * fraction
