"""Light PNG figures for asset metadata: they travel in the Dagster event log, so keep them small.

Figures use matplotlib's object API on an Agg canvas (no pyplot state, safe in any thread),
series are thinned to a few hundred points and rendered at a low DPI, so each PNG stays well
under 60 KB. Every chart module (backtest, execution) draws through these three helpers.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_POINTS = 600
DPI = 72


def thin(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spaced points of a series of length ``n``."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).astype(np.int64))


def figure(width: float, height: float) -> Figure:
    """A detached Agg figure; matplotlib is imported here so loading the code location stays
    fast when no chart is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes at the shared low DPI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
