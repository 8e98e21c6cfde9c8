"""`tardis-assets` command line: the demo run and its summary."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import date, timedelta

from tardis_assets.lib.errors import TardisAssetsError
from tardis_assets.lib.settings import load_settings
from tardis_assets.lib.warehouse import Warehouse
from tardis_assets.operate import backfill as backfill_cmd

DEMO_START = date(2025, 3, 1)
DEMO_DAYS = 3


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _days(start: date, count: int) -> list[date]:
    if count <= 0:
        raise SystemExit(f"--days must be positive, got {count}")
    return [start + timedelta(days=i) for i in range(count)]


def cmd_demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from tardis_assets.defs.backtest.assets import default_strategy_run_id
    from tardis_assets.defs.pipeline import materialize_days
    from tardis_assets.defs.registry import build_registry
    from tardis_assets.defs.resources import resources_from
    from tardis_assets.lib.summary import latency_lines, research_lines, summary_text

    days = _days(args.start, args.days)
    resources = resources_from(args.settings)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        materialize_days(
            build_registry(args.settings),
            days,
            resources,
            instance,
            log_level="DEBUG" if args.verbose else "INFO",
            verbose=args.verbose,
            max_pool_wait_s=args.max_pool_wait,
        )
    elapsed = time.monotonic() - started
    warehouse = resources["warehouse"].warehouse()
    warehouse.sync_catalog()
    print(f"\nlake {warehouse.lake.root}, catalog {warehouse.catalog_path}")
    print(f"{len(days)} days in {elapsed:.1f} s\n")
    print(summary_text(warehouse, days, default_strategy_run_id(), _tick_run_id(args)))
    for line in [*research_lines(warehouse), *latency_lines(warehouse, days)]:
        print(line)
    return 0


def _tick_run_id(args: argparse.Namespace) -> str:
    from tardis_assets.defs.execution.assets import default_execution_run_id
    from tardis_assets.lib.signals import SignalSettings

    settings = args.settings
    window = SignalSettings(**settings.llm.signals).window_minutes * 60
    return default_execution_run_id(settings.market.bar_seconds, window)


def _warehouse(args: argparse.Namespace) -> Warehouse:
    data = args.settings.data
    return Warehouse.at(data.lake, data.catalog)


def cmd_summary(args: argparse.Namespace) -> int:
    from tardis_assets.defs.backtest.assets import default_strategy_run_id
    from tardis_assets.lib.summary import summary_text

    days = _days(args.start, args.days)
    warehouse = _warehouse(args)
    if not warehouse.table_exists("raw_files"):
        print(
            f"tardis-assets summary: nothing materialized yet in {warehouse.lake.root}",
            file=sys.stderr,
        )
        return 2
    print(summary_text(warehouse, days, default_strategy_run_id(), _tick_run_id(args)))
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    """What the signals of a range would cost, from its stored bars and news: no HTTP call."""
    from tardis_assets.defs.resources import llm_resource_from
    from tardis_assets.defs.signals.assets import day_inputs
    from tardis_assets.lib.days import day_range
    from tardis_assets.lib.signals import estimate_range

    if args.start is None or args.end is None:
        print("tardis-assets costs: --estimate needs --from and --to", file=sys.stderr)
        return 2
    if args.start > args.end:
        print(f"tardis-assets costs: --from {args.start} is after --to {args.end}", file=sys.stderr)
        return 2
    warehouse = _warehouse(args)
    days = day_range(args.start, args.end)
    inputs = [(day, *day_inputs(warehouse, day)) for day in days]
    resource = llm_resource_from(args.settings)
    settings = resource.signal_settings(args.settings.market.bar_seconds)
    with resource.process_config_and_initialize().gateway_config() as config:
        estimate = estimate_range(config, settings, inputs)
    print(f"estimate {args.start}..{args.end} ({len(days)} days, {settings.design} design):")
    print(estimate.line())
    return 0


def cmd_costs(args: argparse.Namespace) -> int:
    from tardis_assets.lib.costs import cost_report, format_costs

    if args.estimate:
        return cmd_estimate(args)
    warehouse = _warehouse(args)
    try:
        frame = cost_report(warehouse, by=args.by, days=args.days)
    except (ValueError, LookupError, FileNotFoundError) as exc:
        print(f"tardis-assets costs: {exc}", file=sys.stderr)
        return 2
    print(format_costs(frame))
    return 0


def cmd_llm_ping(args: argparse.Namespace) -> int:
    from tardis_assets.defs.resources import llm_resource_from
    from tardis_assets.lib.llm.ping import ping

    resource = llm_resource_from(args.settings, provider=args.provider)
    # Resolves the EnvVar key the way a Dagster run would; the value never leaves the process.
    with resource.process_config_and_initialize().gateway_config() as config:
        result = ping(config, args.model)
    print(result.line())
    return 0 if result.ok else 1


def cmd_llm_stats(args: argparse.Namespace) -> int:
    from tardis_assets.lib.costs import format_costs, llm_stats

    warehouse = _warehouse(args)
    try:
        print(format_costs(llm_stats(warehouse)))
    except (LookupError, FileNotFoundError) as exc:
        print(f"tardis-assets llm stats: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from tardis_assets.defs.registry import build_registry

    # --batch tags the backfill: its llm_signals runs use the provider's Batch API.
    code = backfill_cmd.run_from_args(args, build_registry(args.settings))
    if code == 0:
        _warehouse(args).sync_catalog()
    return code


def cmd_catalog(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    warehouse.sync_catalog()
    print(f"catalog {warehouse.catalog_path}: {len(warehouse.catalog.names)} views over the lake")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tardis-assets", description=__doc__)
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="Dagster's full event log on the console, with the traceback of any failure",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in (
        ("demo", cmd_demo, "materialize the whole graph for the demo days and print a summary"),
        ("summary", cmd_summary, "print the per-day summary from the warehouse"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--start", type=_day, default=DEMO_START, help="first UTC day (YYYY-MM-DD)")
        p.add_argument("--days", type=int, default=DEMO_DAYS, help="number of days")
        if name == "demo":
            p.add_argument(
                "--max-pool-wait",
                type=float,
                default=600.0,
                help="seconds a step may wait for a pool slot before the run gives up",
            )
        p.set_defaults(func=func)
    costs = sub.add_parser("costs", help="LLM cost, calls, tokens and cache savings")
    costs.add_argument("--days", type=int, default=None, help="only the last N days")
    costs.add_argument("--by", default="day", choices=["day", "kind", "model", "provider"])
    costs.add_argument(
        "--estimate",
        action="store_true",
        help="what the signals of --from..--to would cost (calls, tokens, online vs batch, "
        "answers already cached), from the stored bars and news, without calling anything",
    )
    costs.add_argument("--from", dest="start", type=_day, default=None, help="first UTC day")
    costs.add_argument("--to", dest="end", type=_day, default=None, help="last UTC day")
    costs.set_defaults(func=cmd_costs)
    backfill = sub.add_parser(
        "backfill", help="backfill UTC days through Dagster's backfill daemon (dagster dev)"
    )
    backfill_cmd.add_arguments(backfill)
    backfill.set_defaults(func=cmd_backfill)
    catalog = sub.add_parser(
        "catalog", help="rewrite the DuckDB views of the catalog file over the lake"
    )
    catalog.set_defaults(func=cmd_catalog)
    llm = sub.add_parser("llm", help="LLM gateway: connectivity and call statistics")
    llm_sub = llm.add_subparsers(dest="llm_command", required=True)
    ping = llm_sub.add_parser("ping", help="one real call: latency, model, ok/fail")
    ping.add_argument(
        "--provider", default=None, help="holysheep, openai, deepseek, local, offline"
    )
    ping.add_argument("--model", default=None, help="model id (default: the sentiment route's)")
    ping.set_defaults(func=cmd_llm_ping)
    stats = llm_sub.add_parser("stats", help="calls, cost, cache hits, p50/p95 latency")
    stats.set_defaults(func=cmd_llm_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster flags beta APIs this project uses on purpose (multi-partition mappings, backfill
    # policies) on every import; the warnings say nothing actionable to a CLI user.
    warnings.filterwarnings("ignore", message=r".*currently in (beta|preview).*")
    args = build_parser().parse_args(argv)
    try:
        args.settings = load_settings()
    except TardisAssetsError as exc:
        print(f"tardis-assets: {exc.sentence()}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except TardisAssetsError as exc:
        # An expected failure: one sentence that says what, where and what to do.
        print(f"tardis-assets: {exc.sentence()}", file=sys.stderr)
        return 1
    except Exception as exc:
        from tardis_assets.defs.support.outcome import RunCrashed

        if not isinstance(exc, RunCrashed):
            raise
        print(f"tardis-assets: a run failed on an unexpected error:\n{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
