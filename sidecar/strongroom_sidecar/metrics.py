"""Prometheus metrics, written in the text exposition format by hand (no client library).

Labels are closed sets chosen here: status class, decision, error code, buffer state. No label
ever carries a grant name, host, user or anything a caller controls, so no secret and no
unbounded cardinality can reach a scrape.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    """Observations per bucket, not cumulative: ``counts[i]`` holds those above
    ``buckets[i - 1]`` and at most ``buckets[i]``; :meth:`cumulative` adds them up for a scrape,
    so an observation costs one binary search instead of a pass over every bucket."""
    total: int = 0
    sum: float = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum += seconds
        index = bisect.bisect_left(self.buckets, seconds)
        if index < len(self.counts):
            self.counts[index] += 1

    def cumulative(self) -> list[int]:
        """Prometheus ``le`` bucket values: observations at most each bound."""
        return list(itertools.accumulate(self.counts))


@dataclass
class Metrics:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(status class like ``2xx``, decision) → calls answered."""
    refusals: Counter[str] = field(default_factory=Counter)
    """sidecar error code → refusals."""
    upstream_latency: Histogram = field(default_factory=Histogram)
    audit_delivered: int = 0
    audit_dropped: int = 0
    audit_delivery_failures: int = 0
    audit_rejected: int = 0
    watch_connected: bool = False
    watch_reconnects: int = 0
    key_fetches: int = 0
    ready: bool = False

    def count_request(self, status: int, decision: str) -> None:
        self.requests[(f"{status // 100}xx", decision)] += 1

    def render(self, *, audit_depth: int, in_flight: int, shed: int) -> str:
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        metric("strongroom_sidecar_requests_total", "counter", "Proxy calls answered.")
        for (status_class, decision), n in sorted(self.requests.items()):
            lines.append(
                f'strongroom_sidecar_requests_total{{status_class="{status_class}",'
                f'decision="{decision}"}} {n}'
            )
        metric("strongroom_sidecar_refusals_total", "counter", "Calls refused, by error code.")
        for code, n in sorted(self.refusals.items()):
            lines.append(f'strongroom_sidecar_refusals_total{{code="{code}"}} {n}')
        metric(
            "strongroom_sidecar_upstream_latency_seconds",
            "histogram",
            "Time from forwarding to the upstream's response headers.",
        )
        h = self.upstream_latency
        for bound, count in zip(h.buckets, h.cumulative(), strict=True):
            lines.append(
                f'strongroom_sidecar_upstream_latency_seconds_bucket{{le="{bound}"}} {count}'
            )
        lines.append(f'strongroom_sidecar_upstream_latency_seconds_bucket{{le="+Inf"}} {h.total}')
        lines.append(f"strongroom_sidecar_upstream_latency_seconds_sum {h.sum}")
        lines.append(f"strongroom_sidecar_upstream_latency_seconds_count {h.total}")
        gauges = [
            ("strongroom_sidecar_in_flight", "gauge", "Calls in flight.", in_flight),
            ("strongroom_sidecar_shed_total", "counter", "Calls answered overloaded.", shed),
            ("strongroom_sidecar_audit_buffer_depth", "gauge", "Audit events held.", audit_depth),
            (
                "strongroom_sidecar_audit_delivered_total",
                "counter",
                "Audit events the control plane accepted.",
                self.audit_delivered,
            ),
            (
                "strongroom_sidecar_audit_dropped_total",
                "counter",
                "Audit events not kept for delivery because the buffer was full.",
                self.audit_dropped,
            ),
            (
                "strongroom_sidecar_audit_rejected_total",
                "counter",
                "Audit events the control plane refused as malformed (dropped).",
                self.audit_rejected,
            ),
            (
                "strongroom_sidecar_audit_delivery_failures_total",
                "counter",
                "Failed audit deliveries (retried).",
                self.audit_delivery_failures,
            ),
            (
                "strongroom_sidecar_watch_connected",
                "gauge",
                "1 while the control-plane watch stream is open.",
                int(self.watch_connected),
            ),
            (
                "strongroom_sidecar_watch_reconnects_total",
                "counter",
                "Watch stream reconnects.",
                self.watch_reconnects,
            ),
            (
                "strongroom_sidecar_key_fetches_total",
                "counter",
                "App key fetches from the control plane.",
                self.key_fetches,
            ),
            ("strongroom_sidecar_ready", "gauge", "1 when ready to serve.", int(self.ready)),
        ]
        for name, kind, help_text, value in gauges:
            metric(name, kind, help_text)
            lines.append(f"{name} {value}")
        return "\n".join(lines) + "\n"
