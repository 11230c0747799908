"""The `metanprom` command."""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from metanprom import pipeline
from metanprom.delivery.export import EXPORT_FORMATS, ExportError, export_formats
from metanprom.delivery.summary import summary_text
from metanprom.ingest.formats import FORMATS
from metanprom.ingest.inputs import InputError
from metanprom.settings import warehouse_path
from metanprom.warehouse import WarehouseMissingError, connect


def _cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
    inputs = {name: getattr(args, name) for name in FORMATS}
    deliveries = None
    renderer = None
    if not args.no_deliverables:
        export_formats(args.formats)  # a wrong --formats is refused before the build, not after it
        from metanprom.delivery.report_process import ReportProcess

        renderer = ReportProcess()  # started while dbt builds (`when_building`), to render the reports

        def deliveries(built: Path, swapped_in_as: Path, verdict: pipeline.SwapVerdict | None = None):
            from metanprom.delivery.deliver import deliver

            return deliver(
                built,
                Path(args.exports) if args.exports else None,
                pseudonymise=args.pseudonymise,
                duckdb_storage=args.duckdb_storage_version,
                report_dir=Path(args.report) if args.report else None,
                formats=args.formats,
                source=swapped_in_as,
                checkpoint=verdict.check if verdict else None,
                before_swap=verdict.wait if verdict else None,
                renderer=renderer,
            )

    try:
        # on DuckDB the exports and reports are made beside the mart gate, and swapped in after the warehouse
        result = pipeline.build(
            inputs,
            warehouse,
            dbt_target=args.target,
            beside_mart_gate=deliveries,
            when_building=renderer.start if renderer else None,
        )
        args.warehouse_replaced = True  # from here on a failure leaves the new warehouse in place
        if deliveries is not None:
            if result.beside is not None:
                delivered = result.beside.result()
            else:
                delivered = deliveries(result.warehouse, result.warehouse)
            result.seconds.update(delivered.seconds)
            result.cpu_seconds.update(delivered.cpu_seconds)
    finally:
        if renderer is not None:
            renderer.close()
    if args.timings:
        Path(args.timings).write_text(json.dumps(result.timings(), indent=1), encoding="utf-8")
    print()
    print(summary_text(result.warehouse, result.inputs))
    from metanprom.ingest.check_results import failed

    warned = failed(result.quality, "warning")
    print(
        f"data quality: {len(result.quality)} Great Expectations checks, "
        f"{len(failed(result.quality, 'error'))} failed (error), {len(warned)} warnings"
        + "".join(f"\n  warning: {w.dataset}: {w.check} [{w.column}] {w.observed or ''}" for w in warned[:10])
    )
    print()
    print(f"warehouse: {result.warehouse}")
    if not args.no_deliverables:
        print(f"exports:   {delivered.exports}")
        for path in delivered.reports:
            print(f"report:    {path}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from metanprom.devtools.generator import generate

    figures = generate(args.format, args.rows, args.out, seed=args.seed)
    print(
        f"wrote {figures['rows']:,} {args.format} rows to {args.out} "
        f"({figures['bytes'] / 1e6:.1f} MB) in {figures['seconds']:.1f} s"
    )
    return 0


def _cmd_hypotheses(args: argparse.Namespace) -> int:
    from metanprom.statistics.conclusions import results_table
    from metanprom.statistics.hypotheses import run_registry
    from metanprom.statistics.registry import load_registry

    registry = load_registry(args.registry)
    with connect(Path(args.warehouse) if args.warehouse else None) as con:
        frame = run_registry(con.table("customers"), registry, ids=args.id or None, extracts=args.extract or None)
    print(results_table(frame))
    if args.sentences:
        print()
        for row in frame.to_dict("records"):
            print(f"{row['hypothesis_id']} ({row['extract']}): {row['conclusion_' + args.lang]}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from metanprom.ingest import check_results, quality
    from metanprom.ingest.gate_sql import is_uri
    from metanprom.ingest.inputs import prepare_input
    from metanprom.settings import PROJECT_DIR, output_dir

    on_spark = args.target == "spark"
    docs = quality.fresh_docs_dir(Path(args.docs) if args.docs else output_dir() / "data_docs")
    work = Path(tempfile.mkdtemp(prefix="metanprom-check-"))
    try:
        files: dict[str, Path | str] = {}
        for name in FORMATS:
            given = getattr(args, name)
            if given and is_uri(given) and not on_spark:
                raise InputError(f"{given}: a URI is read by Spark where it lies; check it with --target spark")
            if given and not is_uri(given):
                files[name] = prepare_input(Path(given), name, work).path
            else:
                files[name] = given or PROJECT_DIR / "seeds" / f"{name}.csv"
        context = quality.gx_context(docs)
        given_any = any(getattr(args, n) for n in FORMATS)
        if on_spark:
            results = _check_on_spark(files, context, args.raw_only, given_any)
        else:
            results, rows = quality.check_raw(files, context=context)
            warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
            if warehouse.exists() and not args.raw_only:
                results += quality.check_marts(warehouse, rows if not given_any else None, context=context)
            elif not args.raw_only:
                print(f"(no warehouse at {warehouse}: only the raw extracts were checked)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(check_results.results_text(results))
    print(f"Data Docs: {docs / 'index.html'}")
    return 1 if check_results.failed(results, "error") else 0


def _check_on_spark(files: dict[str, Path | str], context, raw_only: bool, given_any: bool) -> list:
    """`metanprom check --target spark`: the extracts read by Spark, and the marts of the last Spark build (in
    $METANPROM_SPARK_DIR, or on the Thrift server), read where they are."""
    from metanprom.ingest import quality
    from metanprom.ingest.gate_sql import SparkGate
    from metanprom.spark_step import SparkError, mart_relations, open_sql, parse_manifest

    try:
        sql = open_sql()
        results, rows = quality.check_raw(files, context=context, engine=SparkGate(sql))
        if raw_only:
            return results
        marts = SparkGate(sql, mart_relations(parse_manifest()))
        if "customers" not in marts.marts():
            print("(no marts on Spark yet, `metanprom spark-build` makes them: only the raw extracts were checked)")
            return results
        return results + quality.check_marts(None, rows if not given_any else None, context=context, engine=marts)
    except SparkError as error:
        raise pipeline.PipelineError(str(error)) from error


def _export_options(parser: argparse.ArgumentParser) -> None:
    """What `run` and `export` share about the exports: the DuckDB file's storage version and the formats."""
    parser.add_argument(
        "--duckdb-storage-version",
        metavar="VERSION",
        help="storage version of the DuckDB file for Tableau's JDBC driver (default: "
        "$METANPROM_TABLEAU_DUCKDB_STORAGE, else v1.0.0, which every DuckDB 1.x reads)",
    )
    parser.add_argument(
        "--formats",
        metavar="LIST",
        help=f"only these export formats, comma-separated, of {','.join(EXPORT_FORMATS)} (default: all); the "
        "exports folder then holds only these",
    )


def _cmd_export(args: argparse.Namespace) -> int:
    from metanprom.delivery.export import export

    warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
    if not warehouse.exists():
        raise WarehouseMissingError(f"{warehouse}: no warehouse here yet; run `metanprom run` first")
    result = export(
        warehouse,
        Path(args.out) if args.out else None,
        pseudonymise=args.pseudonymise,
        duckdb_storage=args.duckdb_storage_version,
        formats=args.formats,
    )
    print(f"exports written to {result['out']} in {result['seconds']:.1f} s ({len(result['rows'])} marts)")
    return 0


def _cmd_tableau(args: argparse.Namespace) -> int:
    from metanprom.delivery import tableau

    warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
    if not warehouse.exists():
        raise WarehouseMissingError(f"{warehouse}: no warehouse here yet; run `metanprom run` first")
    for path in tableau.write(warehouse, Path(args.out) if args.out else tableau.TABLEAU_DIR):
        print(f"wrote {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from metanprom.delivery.report import write_report

    warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
    if not warehouse.exists():
        raise WarehouseMissingError(f"{warehouse}: no warehouse here yet; run `metanprom run` first")
    for lang in args.lang:
        print(f"report written to {write_report(warehouse, lang, Path(args.out) if args.out else None)}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from metanprom.devtools import bench

    out = Path(args.out) if args.out else bench.DEFAULT_OUT
    bench.main(args.sizes, out, Path(args.work) if args.work else None, spark=args.spark)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from metanprom.devtools.calibrate import write_params

    print(f"wrote {write_params(args.path, args.format, Path(args.out) if args.out else None)}")
    return 0


def _cmd_baseline(args: argparse.Namespace) -> int:
    from metanprom.devtools.baseline import run

    print(json.dumps(run(args.path, args.engine), indent=1))
    return 0


def _cmd_spark_build(args: argparse.Namespace) -> int:
    from metanprom.spark_step import SparkError, build_on_spark

    try:
        built = build_on_spark(args.dbt_args)
    except SparkError as error:
        print(f"metanprom spark-build: {error}", file=sys.stderr)
        return 1
    print(f"built on Spark; Python steps run: {', '.join(sorted(built.steps)) or 'none'}")
    if built.left_out:
        print(
            "incomplete: no Python step yet on Spark for " + ", ".join(built.left_out) + " (#13); they and "
            "what they feed were not built",
            file=sys.stderr,
        )
        return 2
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    print(summary_text(Path(args.warehouse) if args.warehouse else None))
    return 0


def _extract_options(parser: argparse.ArgumentParser) -> None:
    """One option per declared extract format: --bank-scrooge PATH, --bank-dataset PATH, ..."""
    for name, fmt in FORMATS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            metavar="PATH",
            help=f"a file of the {fmt.label_en} (default: the shipped sample)",
        )


#: Shown under every command whose defaults write under output/.
_OUTPUT_NOTE = "output/ in the defaults is $METANPROM_OUTPUT_DIR when it is set, else the project's output/."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metanprom",
        description="Churn analytics for the Metanprom bank: dbt on DuckDB with a Python layer.",
        epilog=_OUTPUT_NOTE,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="check the inputs, build and test the warehouse, print the summary", epilog=_OUTPUT_NOTE
    )
    _extract_options(run)
    run.add_argument("--warehouse", metavar="PATH", help="the DuckDB file (default: $METANPROM_DUCKDB_PATH)")
    run.add_argument(
        "--target",
        choices=pipeline.TARGETS,
        default="dev",
        help="where dbt builds: dev (DuckDB, in the warehouse file) or spark (Apache Spark, profiles.yml's spark "
        "target; its public marts are then copied into the warehouse file for the gate, exports and report)",
    )
    run.add_argument("--exports", metavar="DIR", help="where the exports go (default: output/exports)")
    run.add_argument("--report", metavar="DIR", help="where the two reports go (default: output/report)")
    run.add_argument("--pseudonymise", action="store_true", help="pseudonymise customer ids in the exports")
    _export_options(run)
    run.add_argument("--no-deliverables", action="store_true", help="build and check only: no exports or reports")
    run.add_argument("--timings", metavar="PATH", help="write seconds per step (and dbt's slowest nodes) as JSON")
    run.set_defaults(func=_cmd_run)

    gen = sub.add_parser("generate", help="write a synthetic extract with the project's generator")
    gen.add_argument("--format", choices=sorted(FORMATS), required=True)
    gen.add_argument("--rows", type=int, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True, metavar="PATH")
    gen.set_defaults(func=_cmd_generate)

    hyp = sub.add_parser("hypotheses", help="run the hypothesis registry on the built warehouse and print the results")
    hyp.add_argument("--id", action="append", help="run only this hypothesis (repeatable)")
    hyp.add_argument("--extract", action="append", choices=sorted(FORMATS), help="only this extract (repeatable)")
    hyp.add_argument(
        "--registry", metavar="PATH", help="a registry file (default: hypothesis_results' config.meta.registry)"
    )
    hyp.add_argument("--warehouse", metavar="PATH")
    hyp.add_argument("--sentences", action="store_true", help="also print each conclusion")
    hyp.add_argument("--lang", choices=["en", "ru"], default="en", help="language of the conclusions")
    hyp.set_defaults(func=_cmd_hypotheses)

    check = sub.add_parser(
        "check", help="run the data-quality suites (Great Expectations) and write Data Docs", epilog=_OUTPUT_NOTE
    )
    _extract_options(check)
    check.add_argument("--warehouse", metavar="PATH", help="also check this warehouse's marts (default: the built one)")
    check.add_argument("--raw-only", action="store_true", help="check the extracts only")
    check.add_argument("--docs", metavar="DIR", help="where Data Docs go (default: output/data_docs)")
    check.add_argument(
        "--target",
        choices=pipeline.TARGETS,
        default="dev",
        help="where the checks run: dev (DuckDB: the files, and the warehouse file's marts) or spark (Spark reads "
        "the files, or hdfs:// and s3a:// URIs, in place, and checks the marts of the last Spark build)",
    )
    check.set_defaults(func=_cmd_check)

    exp = sub.add_parser(
        "export", help="write every public mart as Tableau .hyper, DuckDB, Parquet and CSV", epilog=_OUTPUT_NOTE
    )
    exp.add_argument("--warehouse", metavar="PATH")
    exp.add_argument("--out", metavar="DIR", help="default: output/exports")
    exp.add_argument(
        "--pseudonymise",
        action="store_true",
        help="replace customer ids by a keyed hash (key in $METANPROM_PSEUDONYM_KEY) in customer-level exports",
    )
    _export_options(exp)
    exp.set_defaults(func=_cmd_export)

    tab = sub.add_parser("tableau", help="rewrite the Tableau workbook and data sources in tableau/ from the marts")
    tab.add_argument("--warehouse", metavar="PATH")
    tab.add_argument("--out", metavar="DIR", help="default: the project's tableau/")
    tab.set_defaults(func=_cmd_tableau)

    rep = sub.add_parser("report", help="write the manager's HTML report", epilog=_OUTPUT_NOTE)
    rep.add_argument("--lang", choices=["en", "ru"], nargs="+", default=["en", "ru"])
    rep.add_argument("--warehouse", metavar="PATH")
    rep.add_argument("--out", metavar="DIR", help="default: output/report")
    rep.set_defaults(func=_cmd_report)

    bench = sub.add_parser("bench", help="benchmark the pipeline against DuckDB's floor and a pandas baseline")
    bench.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000, 10_000_000])
    bench.add_argument("--out", metavar="DIR", help="where BENCHMARKS.md and benchmarks.json go (default: the project)")
    bench.add_argument("--work", metavar="DIR", help="scratch directory for extracts and warehouses")
    bench.add_argument(
        "--spark", action="store_true", help="also build on local Spark (metanprom spark-build) at each size"
    )
    bench.set_defaults(func=_cmd_bench)

    cal = sub.add_parser(
        "calibrate", help="(developers) fit the generator's parameters from a real extract: aggregates only, no rows"
    )
    cal.add_argument("path", help="the real extract")
    cal.add_argument("format", choices=sorted(FORMATS))
    cal.add_argument("--out", metavar="PATH", help="default: python/metanprom/devtools/generator_params/<format>.json")
    cal.set_defaults(func=_cmd_calibrate)

    base = sub.add_parser(
        "baseline", help="(developers) the benchmark's baseline (pandas or Polars) on one current-format extract"
    )
    base.add_argument("path", help="a current-format extract")
    base.add_argument("--engine", choices=("pandas", "polars"), default="pandas")
    base.set_defaults(func=_cmd_baseline)

    spark = sub.add_parser(
        "spark-build",
        help="dbt build on the spark target, the Python models computed by the Python step (dbt-spark cannot)",
    )
    spark.add_argument("dbt_args", nargs=argparse.REMAINDER, help="more dbt arguments for every dbt build")
    spark.set_defaults(func=_cmd_spark_build)

    summary = sub.add_parser("summary", help="print the summary of the built warehouse")
    summary.add_argument("--warehouse", metavar="PATH")
    summary.set_defaults(func=_cmd_summary)
    return parser


#: Python's cyclic garbage collector scans its youngest objects after every 700 net allocations (its default), and
#: the older generations every 10 and 100 of those scans. Loading the libraries and running dbt allocate millions of
#: objects that live for the whole command, so a 10,000-row `metanprom run` made about 2,400 collections: 2.2 s
#: holding the interpreter's lock, which dbt's threads share. Every 10,000 allocations: about 370, 0.9 s.
GC_YOUNG_THRESHOLD = 10_000


def main(argv: list[str] | None = None) -> int:
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*thresholds)  # a caller in the same process (a test) keeps its own


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (
        InputError,
        pipeline.PipelineError,
        WarehouseMissingError,
        ExportError,
        duckdb.Error,
        ValueError,  # the hypothesis registry's errors (RegistryError, UnsuitableTestError) among them
    ) as error:
        print(f"metanprom {args.command}: {error}", file=sys.stderr)
        if getattr(args, "warehouse_replaced", False):
            print(
                "the new warehouse was built, checked and swapped in; the exports and reports that failed "
                "were not replaced (each is written to a new file or folder and swapped in whole).",
                file=sys.stderr,
            )
        else:
            print("nothing already built was changed.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
