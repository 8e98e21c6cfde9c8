"""Deepest step first (``lib/cluster/priority.py``), without Dagster or a broker."""

from __future__ import annotations

from tardis_assets.lib.cluster.priority import (
    CELERY_PRIORITY_TAG,
    REDIS_BUCKETS,
    Layer,
    layer_tags,
    redis_priority,
)


def test_deeper_layers_get_lower_redis_numbers_which_redis_serves_first():
    numbers = [redis_priority(layer) for layer in Layer]
    assert numbers == sorted(numbers, reverse=True)
    assert len(set(numbers)) == len(Layer)  # every layer in a bucket of its own
    assert redis_priority(Layer.TICKS) == REDIS_BUCKETS[-1]
    assert redis_priority(Layer.RESULTS) == REDIS_BUCKETS[0]


def test_every_priority_is_a_bucket_and_depth_is_clamped():
    for depth in range(-2, 8):
        assert redis_priority(depth) in REDIS_BUCKETS
    assert redis_priority(-1) == redis_priority(Layer.TICKS)
    assert redis_priority(Layer.RESULTS + 3) == redis_priority(Layer.RESULTS)


def test_a_check_is_served_like_the_layer_below_its_asset():
    assert layer_tags(Layer.TICKS, check=True) == layer_tags(Layer.FEATURES)
    assert layer_tags(Layer.RESULTS, check=True) == layer_tags(Layer.RESULTS)
    assert layer_tags(Layer.SIGNALS) == {CELERY_PRIORITY_TAG: str(redis_priority(2))}
