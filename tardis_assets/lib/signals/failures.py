"""The one sentence a person reads when a partition's coverage is too low, and its error class.

Built from the partition's stored stats rows alone (llm_partition_stats of the run), so the CLI,
the asset and its check say the same thing: look-ahead refusals (LookAheadError), budget caps
(BudgetError), provider down or broken answers (ProviderError), with the numbers and the remedy.
"""

from __future__ import annotations

import polars as pl

from tardis_assets.lib.errors import BudgetError, LookAheadError, ProviderError, TardisAssetsError

_REMEDY_LOOKAHEAD = (
    "Use days after the cutoff, route to a model with a later cutoff, or set "
    "allow_in_sample = true under [llm] in tardis_assets.toml (or on the llm resource)."
)


_REMEDY_DOWN = (
    "Check the provider with `tardis-assets llm ping`, then run again after the breaker cooldown "
    "(answers already paid are cached), or route this kind to another provider or model in "
    "routing.toml."
)
_REMEDY_SCHEMA = (
    "Check the models' JSON mode (json_schema in routing.toml) or route this kind to another "
    "model; failures are not cached, so a re-run asks again."
)
_REMEDY_FAILING = (
    "Check the provider with `tardis-assets llm ping` and the models' JSON mode (json_schema in "
    "routing.toml), then run again after the breaker cooldown (answers already paid are cached), "
    "or route this kind to another provider or model in routing.toml."
)


def _n(value: int) -> str:
    return f"{value:,}"


def coverage_failure(stats: pl.DataFrame, min_ok_share: float) -> TardisAssetsError | None:
    """The partition's failure, or None when ok/requests >= min_ok_share (or nothing asked).

    `stats` holds the rows of one run of one (date, kind) partition.
    """
    if stats.is_empty():
        return None
    first = stats.sort("chain_position").row(0, named=True)
    where = f"llm_signals {first['date']}|{first['kind']}"
    total = int(stats["requests"].sum())
    ok = int(stats["ok"].sum())
    if total == 0 or ok / total >= min_ok_share:
        return None
    count = {k: int(stats[k].sum()) for k in ("lookahead_refused", "budget_exhausted",
             "parse_error", "provider_error", "breaker_open", "replay_miss")}  # fmt: skip
    facts = {"partition": where, "requests": total, "ok": ok, **count}
    worst = max(count, key=lambda k: count[k])
    chain = stats.sort("chain_position")
    if worst == "lookahead_refused":
        cutoffs = ", ".join(f"{r['model']} knows data up to {r['model_cutoff']}"
                            for r in chain.iter_rows(named=True))  # fmt: skip
        return LookAheadError(
            f"{where}: {_n(count[worst])} of {_n(total)} requests refused as in-sample: {cutoffs}",
            remedy=_REMEDY_LOOKAHEAD,
            facts=facts,
        )
    if worst == "budget_exhausted":
        caps = []
        if first["budget_run_usd"] is not None:
            caps.append(f"run cap ${first['budget_run_usd']:.2f}")
        if first["budget_day_usd"] is not None:
            caps.append(f"day cap ${first['budget_day_usd']:.2f}")
        return BudgetError(
            f"{where}: {_n(count[worst])} of {_n(total)} requests not sent: after "
            f"${float(stats['cost_usd'].sum()):.4f} spent, the next call's worst-case cost no "
            f"longer fit under the budget ({', '.join(caps) or 'cap'})",
            remedy="Raise budget_run_usd or budget_day_usd under [llm] (or on the llm "
            "resource), or wait for the next UTC day for the day cap, and run again; answers "
            "already paid are cached.",
            facts=facts,
        )
    if worst == "replay_miss":
        return ProviderError(
            f"{where}: {_n(count[worst])} of {_n(total)} requests have no cached answer and "
            "replay_only is set",
            remedy="Unset replay_only on the llm resource to let the run ask the provider.",
            facts=facts,
        )
    breakers = ", ".join(
        f"{r['model']} {r['breaker_state']}"
        + (f" (opened {r['breaker_opened']}x)" if r["breaker_opened"] else "")
        for r in chain.iter_rows(named=True)
    )
    last = first["last_error"] or "none recorded"
    share = ok / total
    state = f"breakers: {breakers}; last provider error: {last}"
    if worst == "parse_error":
        # Provider failures beside broken answers: a provider that fails in every way at once.
        failing = count["provider_error"] + count["breaker_open"]
        also = f", and {_n(failing)} more failed at the provider" if failing else ""
        return ProviderError(
            f"{where}: {_n(count[worst])} of {_n(total)} answers broke the {first['kind']} schema "
            f"on every model of the route (answer and one repair each){also}; ok share "
            f"{share:.2f}; {state}",
            remedy=_REMEDY_FAILING if failing else _REMEDY_SCHEMA,
            facts=facts,
        )
    return ProviderError(
        f"{where}: provider down: ok share {share:.2f} ({_n(ok)} of {_n(total)}); {state}",
        remedy=_REMEDY_DOWN,
        facts=facts,
    )
