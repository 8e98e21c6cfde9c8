"""Small PNG charts of backtests: equity with drawdown, Sharpe heatmaps, Monte Carlo fans.

Drawn through ``lib/figures`` (detached Agg figures, thinned series, low DPI), so each stays
well under 60 KB in the event log.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tardis_assets.lib.figures import figure, png, thin


def equity_drawdown_png(per_bar: pl.DataFrame, title: str = "Equity") -> bytes:
    """Equity curve above its drawdown, from a frame with bar_start and equity columns."""
    if per_bar.height == 0:
        raise ValueError("cannot chart an empty equity curve")
    equity = per_bar.get_column("equity").to_numpy()
    x = per_bar.get_column("bar_start").to_numpy()
    dd = equity / np.maximum.accumulate(np.maximum(equity, 1.0)) - 1.0
    idx = thin(equity.size)
    fig = figure(6.4, 3.6)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax1.plot(x[idx], equity[idx], lw=1.0, color="#1f5fa8")
    ax1.set_ylabel("equity")
    ax1.set_title(title, fontsize=10)
    ax1.grid(alpha=0.3)
    ax2.fill_between(x[idx], dd[idx] * 100, 0, color="#c0392b", alpha=0.6, lw=0)
    ax2.set_ylabel("DD %")
    ax2.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return png(fig)


def sharpe_heatmap_png(
    results: pl.DataFrame, x: str = "fast", y: str = "slow", value: str = "sharpe"
) -> bytes:
    """Heatmap of ``value`` over two parameters (best value per cell if other params vary)."""
    for col in (x, y, value):
        if col not in results.columns:
            raise ValueError(f"heatmap: results have no column {col!r}")
    cells = results.group_by(x, y).agg(pl.col(value).max()).sort(x, y)
    cx = cells.get_column(x).to_numpy()
    cy = cells.get_column(y).to_numpy()
    cv = cells.get_column(value).cast(pl.Float64).fill_null(np.nan).to_numpy()
    xs, ys = np.unique(cx), np.unique(cy)
    fig = figure(6.0, 4.2)
    ax = fig.subplots()
    if xs.size * ys.size == cells.height:
        # A full grid: one cell per combination, labelled by parameter value.
        grid = np.full((ys.size, xs.size), np.nan)
        grid[np.searchsorted(ys, cy), np.searchsorted(xs, cx)] = cv
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="RdYlGn", interpolation="nearest")
        for setter, labels in ((ax.set_xticks, xs), (ax.set_yticks, ys)):
            pick = np.unique(np.linspace(0, labels.size - 1, min(8, labels.size)).astype(int))
            setter(pick, [str(v) for v in labels[pick]])
    else:
        # Random search (or a ragged grid): each combination is a coloured square at its values.
        im = ax.scatter(cx, cy, c=cv, cmap="RdYlGn", marker="s", s=12, linewidths=0)
    fig.colorbar(im, ax=ax, label=value)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{value} by {x} x {y} ({results.height} combinations)", fontsize=10)
    fig.tight_layout()
    return png(fig)


def monte_carlo_fan_png(
    checkpoints: np.ndarray, bands: np.ndarray, percentiles: tuple[float, ...]
) -> bytes:
    """Fan chart of equity percentiles (columns of ``bands``) over the horizon."""
    if bands.ndim != 2 or bands.shape[1] != len(percentiles) or bands.shape[0] != len(checkpoints):
        raise ValueError("bands must be (checkpoints x percentiles)")
    fig = figure(6.4, 3.6)
    ax = fig.subplots()
    k = len(percentiles)
    for lo in range(k // 2):
        hi = k - 1 - lo
        ax.fill_between(
            checkpoints,
            bands[:, lo],
            bands[:, hi],
            color="#1f5fa8",
            alpha=0.18 + 0.15 * lo,
            lw=0,
            label=f"p{percentiles[lo]:g}-p{percentiles[hi]:g}",
        )
    if k % 2:
        ax.plot(checkpoints, bands[:, k // 2], color="#0b2e59", lw=1.2, label="median")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("bars ahead")
    ax.set_ylabel("equity")
    ax.set_title("Monte Carlo equity bands (stationary bootstrap)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png(fig)
