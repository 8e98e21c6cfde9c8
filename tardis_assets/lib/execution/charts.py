"""Small PNG charts of execution runs (kept light: they travel in asset metadata).

Drawn through ``lib/figures`` (detached Agg figures, thinned series, low DPI).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tardis_assets.lib.figures import figure, png, thin

PNL_PARTS = ("alpha", "spread_impact", "fees", "funding")


def execution_png(equity: pl.DataFrame, pnl: dict[str, float], title: str) -> bytes:
    """Equity curve (left) beside the PnL decomposition bars (right)."""
    if equity.height == 0:
        raise ValueError("cannot chart an empty equity curve")
    eq = equity.get_column("equity").to_numpy()
    x = equity.get_column("time").to_numpy()
    idx = thin(eq.size)
    fig = figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.4]})
    ax1.plot(x[idx], eq[idx], lw=1.0, color="#1f5fa8")
    ax1.set_ylabel("equity")
    ax1.set_title(title, fontsize=10)
    ax1.grid(alpha=0.3)
    for label in ax1.get_xticklabels():
        label.set_rotation(30)
        label.set_fontsize(7)
    # contributions to PnL: alpha adds, costs subtract
    values = [pnl["alpha"], -pnl["spread_impact"], -pnl["fees"], -pnl["funding"]]
    colors = ["#2e8b57" if v >= 0 else "#c0392b" for v in values]
    ax2.barh(list(PNL_PARTS), values, color=colors)
    ax2.axvline(0.0, color="grey", lw=0.8)
    ax2.set_title(f"PnL {pnl['pnl']:,.2f}", fontsize=10)
    ax2.tick_params(labelsize=8)
    fig.tight_layout()
    return png(fig)


def latency_png(table: pl.DataFrame) -> bytes:
    """PnL, Sharpe and implementation shortfall against model latency, one line per order
    latency (the 'measured' point drawn at its median measured latency)."""
    fig = figure(9.0, 3.2)
    axes = fig.subplots(1, 3)
    for order_ms in table.get_column("order_latency_ms").unique().sort().to_list():
        part = table.filter(pl.col("order_latency_ms") == order_ms).sort("model_latency_ms")
        x = part.get_column("model_latency_ms").to_numpy()
        for ax, col in zip(axes, ("pnl", "sharpe", "implementation_shortfall_bps"), strict=True):
            y = part.get_column(col).cast(pl.Float64).fill_null(np.nan).to_numpy()
            ax.plot(x, y, marker="o", lw=1.0, label=f"order {order_ms:g} ms")
    for ax, col in zip(axes, ("PnL", "Sharpe", "impl. shortfall (bps)"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("model latency (ms)")
        ax.set_title(col, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return png(fig)
