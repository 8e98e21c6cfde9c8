"""The broker serves the deepest step first: the layer tags (``lib/cluster/priority.py``) as
dagster-celery publishes them, through a real Redis, read back in the order a worker gets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tardis_assets.lib.cluster.celery_settings import QUEUE, celery_settings
from tardis_assets.lib.cluster.priority import CELERY_PRIORITY_TAG, Layer, layer_tags
from tardis_assets.operate.redis import RedisServer

pytestmark = pytest.mark.cluster


def test_waiting_steps_come_out_deepest_first(cluster_binaries: None, tmp_path: Path) -> None:
    from dagster_celery.config import TASK_EXECUTE_PLAN_NAME
    from dagster_celery.make_app import make_app

    redis = RedisServer(tmp_path / "redis").start()
    try:
        app = make_app({"broker": redis.url(0), "backend": redis.url(1), "config_source": None})
        app.conf.update(celery_settings(60))
        # Arrival order: every day's raw steps first, then a day's deeper steps, as a backfill
        # of many days queues them.
        arrivals = [
            ("raw_trades[d2]", layer_tags(Layer.TICKS)),
            ("raw_quotes[d2]", layer_tags(Layer.TICKS)),
            ("bars[d1]", layer_tags(Layer.FEATURES)),
            ("raw_trades_quality[d2]", layer_tags(Layer.TICKS, check=True)),
            ("llm_signals[d1]", layer_tags(Layer.SIGNALS)),
            ("backtest_results[d1]", layer_tags(Layer.RESULTS)),
        ]
        for step, tags in arrivals:
            # What dagster-celery's executor sends for a step (run priority 0).
            app.send_task(
                TASK_EXECUTE_PLAN_NAME,
                args=[step],
                priority=int(tags[CELERY_PRIORITY_TAG]),
                queue=QUEUE,
                routing_key=f"{QUEUE}.execute_plan",
            )
        served = []
        with app.connection_for_read() as connection:
            queue = connection.SimpleQueue(QUEUE)
            for _ in arrivals:
                message = queue.get(timeout=10)
                served.append(message.decode()[0][0])
                message.ack()
            queue.close()
        assert served == [
            "backtest_results[d1]",
            "llm_signals[d1]",
            "bars[d1]",
            "raw_trades_quality[d2]",  # same layer as bars: arrival order among them
            "raw_trades[d2]",
            "raw_quotes[d2]",
        ]
    finally:
        redis.stop()
