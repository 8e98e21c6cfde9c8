"""A window's sentiment from the scores of its headlines: an age-decayed aggregate.

Each headline h (score s_h, confidence c_h, age a_h at the window's end) weighs
w_h = c_h * 2^(-a_h / half_life). The window's value is the weighted mean of the scores,
sum(w_h s_h) / sum(w_h), so it stays in [-1, 1]; its confidence is 1 - prod(1 - w_h), the chance
that at least one headline is informative (more agreeing news -> more confidence; old news fades,
and below the strategy's min_confidence it stops directing trades). No headline: no view. A
headline whose score failed makes the window fail with it (a missing bearish story could flip the
sign), so a window's view is never built from part of its news.
"""

from __future__ import annotations

from collections.abc import Sequence


def window_sentiment(
    scores: Sequence[tuple[float, float, int]], half_life_us: float
) -> tuple[float, float]:
    """(value, confidence) of (score, confidence, age_us) triples; at least one is required."""
    if not scores:
        raise ValueError("a window without headlines has no sentiment view")
    weights = [c * 2.0 ** (-age / half_life_us) for _, c, age in scores]
    total = sum(weights)
    value = (
        sum(w * s for w, (s, _, _) in zip(weights, scores, strict=True)) / total if total else 0.0
    )
    miss = 1.0
    for w in weights:
        miss *= 1.0 - min(max(w, 0.0), 1.0)
    return round(value, 10), round(1.0 - miss, 10)
