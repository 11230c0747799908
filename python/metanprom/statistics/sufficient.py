"""Two groups' sufficient statistics, computed by the engine where the customers are.

A hypothesis compares a measure between group a and group b. Instead of
pulling every customer's value into Python, the engine returns the few
numbers each test needs, in as few scans of the customers as the questions
allow:

- sizes, whether the measure is 0/1, how many are in both groups, and the
  means (`summary`: one scan);
- central moments, computed in two passes (mean first) so large money values
  lose no precision (`moments`), optionally inside trimming bounds; without
  bounds the second pass is the scan that also gives
- the 1 %, 50 % and 99 % quantiles by linear interpolation, numpy's default
  (`quantiles`);
- Mann-Whitney's rank sum of group a with average ranks for ties, and the
  tie term sum(t^3 - t) over tied values (`rank_sums`);
- counts per category (`crosstab`);
- the values of a fixed sample: the customers first in the project's sample
  order (`frames.SAMPLE_ORDER`: the md5 of their key and the project's seed,
  stored once per customer), the same on every run and every engine
  (`sample`).

`TwoGroups.from_arrays` puts two arrays in an in-memory DuckDB relation, so
tests (and callers holding arrays) take the same route.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metanprom.sqltext import sql_string
from metanprom.statistics.frames import SAMPLE_ORDER, SAMPLE_ORDER_SQL

TRIM = 0.01
#: three floats: the sums of (y - mean)^2, ^3, ^4, or the 1 %, 50 % and 99 % quantiles
_Triple = tuple[float, float, float]
_LOCAL = threading.local()


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


class TwoGroups:
    """Group a and group b of one extract: an in_a flag and the measure `y`, one row per customer."""

    def __init__(self, relation: duckdb.DuckDBPyRelation) -> None:
        # columns: in_a, in_b (booleans), y (the measure), customer_key (text), sample_order (frames.SAMPLE_ORDER);
        # customers in a or in b (group b: not in a), y not null
        self.relation = relation
        self._counts: duckdb.DuckDBPyRelation | None = None
        self._ranks: dict[tuple, RankSums] = {}
        self._summary: dict[str, int | bool | float] | None = None
        self._spread: tuple[dict[bool, _Triple], dict[bool, _Triple]] | None = None

    @classmethod
    def from_customers(
        cls, customers: duckdb.DuckDBPyRelation, extract: str, where_a: str, where_b: str, measure: str
    ) -> tuple[TwoGroups, int]:
        """The two groups of `customers` (aliased so: group SQL may refer to it) and how many are in both.

        Not materialised: each statistic reads the customers again (a scan of a few columns, cheaper than
        a copy of millions of rows held beside the other models). The overlap comes from the summary's scan."""
        customers = customers.set_alias("customers")
        rel = customers.filter(
            f"extract = {sql_string(extract)} and (({where_a}) or ({where_b})) and ({measure}) is not null"
        ).project(
            f"coalesce(({where_a}), false) as in_a, coalesce(({where_b}), false) as in_b, {measure} as y,"
            " customer_key, sample_order"
        )
        groups = cls(cls._numeric(rel))
        return groups, int(groups.summary()["overlap"])

    @staticmethod
    def _numeric(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        # a yes/no measure is a 0/1 one
        if rel.types[rel.columns.index("y")] == duckdb.sqltype("boolean"):
            return rel.project("in_a, in_b, y::integer as y, customer_key, sample_order")
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

    @property
    def _dialect(self) -> str:
        """The engine's SQL where it differs from DuckDB's: `spark` for the Python step's Spark relations."""
        return getattr(self.relation, "dialect", "duckdb")

    def _quantiles_sql(self, where: str) -> str:
        """The 1 %, 50 % and 99 % quantiles of y (linear interpolation, numpy's default) as a list."""
        levels = f"{TRIM}, 0.5, {1 - TRIM}"
        if self._dialect == "spark":
            return f"percentile(y::double, array({levels})) {where}"
        return f"quantile_cont(y::double, [{levels}]) {where}"

    @property
    def _wide_integer(self) -> str:
        """An integer type wider than 64 bits, for twice a rank sum."""
        return "decimal(38, 0)" if self._dialect == "spark" else "hugeint"

    @property
    def is_categorical(self) -> bool:
        return self.relation.types[self.relation.columns.index("y")] == duckdb.sqltype("varchar")

    def summary(self) -> dict[str, int | bool | float]:
        """n_a, n_b, how many customers are in both groups (`overlap`), whether every value is 0 or 1 (a 0/1
        measure), how many 1s each group has, and each group's mean (`mean_a`, `mean_b`; NaN for a categorical
        measure or an empty group): one scan, kept."""
        if self._summary is None:
            if self.is_categorical:
                numeric = "false, 0, 0, null::double, null::double"
            else:
                numeric = (
                    "coalesce(bool_and(y = 0 or y = 1), false),"
                    " count(*) filter (where in_a and y = 1), count(*) filter (where not in_a and y = 1),"
                    " avg(y::double) filter (where in_a), avg(y::double) filter (where not in_a)"
                )
            row = self._sql(
                "select count(*) filter (where in_a), count(*) filter (where not in_a),"
                f" count(*) filter (where in_a and in_b), {numeric} from g"
            ).fetchall()[0]
            n_a, n_b, overlap, is_binary, ones_a, ones_b, mean_a, mean_b = row
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
        return f"y >= cast('{float(low)!r}' as double) and y <= cast('{float(high)!r}' as double)"

    @classmethod
    def _within(cls, bounds: dict[bool, tuple[float, float]] | None) -> str:
        if not bounds:
            return "true"
        return " or ".join(
            f"(in_a = {str(group).lower()} and {cls._between(low, high)})" for group, (low, high) in bounds.items()
        )

    def _whole_spread(self) -> tuple[dict[bool, _Triple], dict[bool, _Triple]]:
        """Each whole group's sums of (y - mean)^k for k = 2, 3, 4 around the summary's means, and its (1 %,
        50 %, 99 %) quantiles: one scan, kept."""
        if self._spread is None:
            summary = self.summary()
            means = {True: summary["mean_a"], False: summary["mean_b"]}
            parts = []
            for group in (True, False):
                where = f"filter (where in_a = {str(group).lower()})"
                mean = f"cast('{float(means[group])!r}' as double)"
                parts += [f"sum(power(y::double - {mean}, {k})) {where}" for k in (2, 3, 4)]
                parts.append(self._quantiles_sql(where))
            values = self._sql(f"select {', '.join(parts)} from g").fetchall()[0]
            sums, quantiles = {}, {}
            for index, group in enumerate((True, False)):
                s2, s3, s4, q = values[4 * index : 4 * index + 4]
                sums[group] = tuple(float(v) if v is not None else 0.0 for v in (s2, s3, s4))
                if q is not None:
                    quantiles[group] = tuple(float(v) for v in q)
            self._spread = (sums, quantiles)
        return self._spread

    def moments(self, bounds: dict[bool, tuple[float, float]] | None = None) -> dict[bool, Moments]:
        """Each group's size, mean and central moment sums (True: group a), in two passes: the means, then
        the sums of powers of the distances to them (no loss of precision on large money values). Without
        bounds, both passes are scans shared with `summary` and `quantiles`."""
        if not bounds:
            summary = self.summary()
            sums = self._whole_spread()[0]
            sizes = {True: (summary["n_a"], summary["mean_a"]), False: (summary["n_b"], summary["mean_b"])}
            return {
                group: Moments(int(n), float(mean), *sums[group]) if n else Moments(0, float("nan"), 0.0, 0.0, 0.0)
                for group, (n, mean) in sizes.items()
            }
        within = self._within(bounds)
        means = self._sql(f"select in_a, count(*), avg(y::double) from g where {within} group by in_a").fetchall()
        found = {group: Moments(0, float("nan"), 0.0, 0.0, 0.0) for group in (True, False)}
        if not means:
            return found
        sums = ", ".join(
            f"sum(power(y::double - cast('{float(mean)!r}' as double), {k}))"
            f" filter (where in_a = {str(bool(group)).lower()})"
            for group, _, mean in means
            for k in (2, 3, 4)
        )
        values = self._sql(f"select {sums} from g where {within}").fetchall()[0]
        for index, (group, n, mean) in enumerate(means):
            s2, s3, s4 = (float(v) for v in values[3 * index : 3 * index + 3])
            found[bool(group)] = Moments(int(n), float(mean), s2, s3, s4)
        return found

    def quantiles(self) -> dict[bool, tuple[float, float, float]]:
        """Each group's (1 %, 50 %, 99 %) quantiles, linearly interpolated (numpy's default); an empty group has
        none."""
        return self._whole_spread()[1]

    def _value_counts(self) -> duckdb.DuckDBPyRelation:
        """Each distinct value with how many customers of group a and of group b have it: one aggregate,
        kept, from which both rank sums (whole and trimmed) are computed."""
        if self._counts is None:
            self._counts = self._sql(
                "select y, count(*) filter (where in_a) as t_a, count(*) filter (where not in_a) as t_b"
                " from g group by y"
            ).materialize()
        return self._counts

    def rank_sums(self, bounds: dict[bool, tuple[float, float]] | None = None) -> RankSums:
        """Mann-Whitney's sufficient statistics: sizes, group a's rank sum (average ranks), the tie term.

        From the value counts: inside `bounds`, a value keeps group a's count where it lies within group a's
        bounds and group b's where within group b's. Kept from `rank_sums_with` when it computed these."""
        key = self._bounds_key(bounds)
        if key not in self._ranks:
            self._ranks[key] = self._rank_sums([bounds])[0]
        return self._ranks[key]

    def rank_sums_with(self, bounds: dict[bool, tuple[float, float]]) -> tuple[RankSums, RankSums]:
        """The whole groups' rank sums and those inside `bounds`, from one ordering of the value counts (one
        sort instead of two); both are kept for `rank_sums`."""
        whole, trimmed = self._rank_sums([None, bounds])
        self._ranks[self._bounds_key(None)] = whole
        self._ranks[self._bounds_key(bounds)] = trimmed
        return whole, trimmed

    @staticmethod
    def _bounds_key(bounds: dict[bool, tuple[float, float]] | None) -> tuple:
        return tuple(sorted(bounds.items())) if bounds else ()

    def _rank_sums(self, all_bounds: list[dict[bool, tuple[float, float]] | None]) -> list[RankSums]:
        """Rank sums for each of `all_bounds` (None: the whole groups), every one from the same window over the
        value counts ordered by value. A value no group keeps counts 0 everywhere, so it ranks nothing."""
        counts, ranked, sums = [], [], []
        for i, bounds in enumerate(all_bounds):
            if bounds:
                counts.append(
                    f"case when {self._between(*bounds[True])} then t_a else 0 end as a{i},"
                    f" case when {self._between(*bounds[False])} then t_b else 0 end as b{i}"
                )
            else:
                counts.append(f"t_a as a{i}, t_b as b{i}")
            ranked.append(f"a{i}, a{i} + b{i} as t{i}, sum(a{i} + b{i}) over running - (a{i} + b{i}) as below{i}")
            sums.append(
                f"coalesce(sum(a{i}), 0), coalesce(sum(t{i} - a{i}), 0),"
                # twice the rank sum, in integers: a tied value's average rank is below + (t + 1) / 2
                f" coalesce(sum(cast(a{i} as {self._wide_integer}) * (2 * below{i} + t{i} + 1)), 0),"
                f" coalesce(sum(power(t{i}::double, 3) - t{i}), 0)"
            )
        row = (
            self._value_counts()
            .query(
                "v",
                f"""
            with kept as (select y, {", ".join(counts)} from v),
            ranked as (
                select {", ".join(ranked)}
                from kept
                window running as (order by y rows between unbounded preceding and current row)
            )
            select {", ".join(sums)}
            from ranked
            """,
            )
            .fetchall()[0]
        )
        return [
            RankSums(int(row[4 * i]), int(row[4 * i + 1]), int(row[4 * i + 2]) / 2, float(row[4 * i + 3]))
            for i in range(len(all_bounds))
        ]

    def crosstab(self) -> tuple[list[str], np.ndarray]:
        """Categories in sorted order, and the 2 x k table of counts (row 0: group a)."""
        rows = self._sql("select y, count(*) filter (where in_a), count(*) filter (where not in_a) from g group by y")
        counts = sorted(rows.fetchall(), key=lambda r: r[0])
        table = np.array([[r[1] for r in counts], [r[2] for r in counts]], dtype=np.int64)
        return [r[0] for r in counts], table

    def sample(self, in_a: bool, size: int | None = None) -> np.ndarray:
        """Group a's (or b's) values: all of them, or the `size` customers first in SAMPLE_ORDER."""
        limit = f"order by {SAMPLE_ORDER} limit {int(size)}" if size is not None else ""
        values = self._sql(f"select y from g where in_a = {str(in_a).lower()} {limit}").fetchnumpy()["y"]
        if self.is_categorical:
            return np.asarray(values, dtype=object)
        return np.asarray(values, dtype=float)
