"""The latency histogram: per-bucket counts, cumulative on a scrape, like Prometheus expects."""

from __future__ import annotations

from strongroom_sidecar import metrics


def test_histogram_buckets_are_cumulative_and_bounds_are_inclusive() -> None:
    histogram = metrics.Histogram()
    for seconds in (0.001, 0.005, 0.0051, 0.3, 31.0):
        histogram.observe(seconds)
    by_bound = dict(zip(histogram.buckets, histogram.cumulative(), strict=True))
    assert by_bound[0.005] == 2  # "le" is inclusive: 0.005 counts in the 0.005 bucket
    assert by_bound[0.01] == 3
    assert by_bound[0.25] == 3
    assert by_bound[0.5] == 4
    assert by_bound[30.0] == 4  # above every bound: only in +Inf (the total)
    assert histogram.total == 5


def test_rendered_buckets_count_up_to_the_total() -> None:
    counters = metrics.Metrics()
    for seconds in (0.002, 0.02, 0.2, 2.0):
        counters.upstream_latency.observe(seconds)
    text = counters.render(audit_depth=0, in_flight=0, shed=0)
    assert 'strongroom_sidecar_upstream_latency_seconds_bucket{le="0.005"} 1' in text
    assert 'strongroom_sidecar_upstream_latency_seconds_bucket{le="0.025"} 2' in text
    assert 'strongroom_sidecar_upstream_latency_seconds_bucket{le="0.25"} 3' in text
    assert 'strongroom_sidecar_upstream_latency_seconds_bucket{le="2.5"} 4' in text
    assert 'strongroom_sidecar_upstream_latency_seconds_bucket{le="+Inf"} 4' in text
