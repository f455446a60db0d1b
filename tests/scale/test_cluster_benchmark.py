"""The multi-process benchmark (`python -m benchmarks cluster`) at a tiny size: gateway, api processes and
load generators for real, every figure measured and positive."""

import math

import pytest

from benchmarks import bench_cluster
from tests.conftest import POSTGRES_URL


def test_the_cluster_benchmark_measures_every_figure(redis_url: str) -> None:
    if POSTGRES_URL is None:
        pytest.skip("the cluster benchmark needs PostgreSQL: set SMARTCHARGE_TEST_POSTGRES_URL")
    figures = bench_cluster.run(size=6, seconds=1.0, commands=6)
    for name, processes in (("ceiling", 1), ("one_gateway", 1), ("two_gateways", 2)):
        row = figures[name]
        assert row["errors"] == 0, (name, row)
        assert row["msgs_per_s"] > 0, (name, row)
        assert len(row["msgs_per_cpu_s"]) == processes
        assert all(x > 0 for x in row["msgs_per_cpu_s"]), (name, row)
    commands = figures["commands"]
    assert commands["outcomes"] == {"accepted": 6, "waited accepted": 6}
    assert 0 < commands["p50_ms"] <= commands["p99_ms"]
    assert 0 < commands["wait_p50_ms"] <= commands["wait_p99_ms"]
    assert commands["cpu_ms_per_command"] > 0
    failover = figures["failover"]
    assert failover["reconnected"] == failover["charge_points"] == 3
    assert math.isfinite(failover["held_again_s"])
    assert failover["held_again_s"] > 0
