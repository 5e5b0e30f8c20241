"""Prometheus metrics at ``GET /metrics``, from a registry of the app's own (never the global).

Families (text exposition format 0.0.4):

- ``verdict_submissions_total{verdict}``: finished submissions by their current verdict, counted
  in the database at scrape time (a rejudge can move a submission from one verdict to another);
- ``verdict_submissions_by_status{status}``: submissions queued, running and done right now;
- ``verdict_queue_length``: judgings waiting for the evaluator in this process;
- ``verdict_sandboxes_busy``: sandbox runs (compiles, tests, checkers) in progress or waiting
  for a slot in this process right now;
- ``verdict_judgings_running``: judgings being evaluated in this process right now;
- ``verdict_evaluation_seconds{verdict}``: how long judgings took (a histogram), fed as they
  finish;
- ``process_*`` and ``python_*``: the usual process and interpreter figures.

Nothing personal is exposed: only counts and timings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from quart import Blueprint, Quart, Response, current_app
from sqlalchemy import func, select

from service.db import get_db
from service.jobs import LocalDispatcher, get_dispatcher
from service.models import Status, Submission

log = logging.getLogger(__name__)

EXTENSION_KEY = "verdict.metrics"
EVALUATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

bp = Blueprint("metrics", __name__)


@dataclass
class Snapshot:
    """Figures read at scrape time, just before the registry is rendered."""

    by_verdict: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    running: int = 0
    sandboxes_busy: int = 0


class SnapshotCollector(Collector):
    """Expose the latest Snapshot as metric families."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterable[Metric]:
        """Yield the families of the current snapshot."""
        snapshot = self.snapshot
        verdicts = CounterMetricFamily(
            "verdict_submissions",
            "Finished submissions by current verdict (counted in the database).",
            labels=["verdict"],
        )
        for verdict, count in sorted(snapshot.by_verdict.items()):
            verdicts.add_metric([verdict], count)
        yield verdicts
        statuses = GaugeMetricFamily(
            "verdict_submissions_by_status",
            "Submissions by status right now (queued, running, done).",
            labels=["status"],
        )
        for status in Status:
            statuses.add_metric([status.value], snapshot.by_status.get(status.value, 0))
        yield statuses
        yield GaugeMetricFamily(
            "verdict_queue_length",
            "Judgings waiting for a free evaluator slot in this process.",
            value=snapshot.queued,
        )
        yield GaugeMetricFamily(
            "verdict_sandboxes_busy",
            "Sandbox runs in progress (or waiting for a slot) in this process right now.",
            value=snapshot.sandboxes_busy,
        )
        yield GaugeMetricFamily(
            "verdict_judgings_running",
            "Judgings being evaluated by this process right now.",
            value=snapshot.running,
        )


class AppMetrics:
    """The app's registry, its evaluation histogram and the scrape-time collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.snapshot = SnapshotCollector()
        self.registry.register(self.snapshot)
        self.evaluation_seconds = Histogram(
            "verdict_evaluation_seconds",
            "Time from the start of a judging to its verdict, by verdict.",
            labelnames=["verdict"],
            buckets=EVALUATION_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def observe_judging(self, verdict: str, seconds: float) -> None:
        """Record one finished judging (the dispatcher's ``on_finished`` hook)."""
        self.evaluation_seconds.labels(verdict=verdict or "none").observe(max(0.0, seconds))


def get_metrics(app: Quart) -> AppMetrics:
    """Return the metrics of ``app``."""
    metrics: AppMetrics = app.extensions[EXTENSION_KEY]
    return metrics


def find_dispatcher(app: Quart) -> LocalDispatcher | None:
    """Return the app's dispatcher, or None when this process runs no evaluator."""
    try:
        return get_dispatcher(app)
    except KeyError:
        return None


async def take_snapshot(app: Quart) -> Snapshot:
    """Count submissions in the database and read the dispatcher's queue."""
    snapshot = Snapshot()
    query = select(Submission.status, Submission.verdict, func.count(Submission.id)).group_by(
        Submission.status, Submission.verdict
    )
    async with get_db(app).session() as db:
        for status, verdict, count in (await db.execute(query)).all():
            value = Status(status).value
            snapshot.by_status[value] = snapshot.by_status.get(value, 0) + count
            if value == Status.DONE.value:
                name = verdict or "none"
                snapshot.by_verdict[name] = snapshot.by_verdict.get(name, 0) + count
    dispatcher = find_dispatcher(app)
    if dispatcher is not None:
        stats = dispatcher.stats()
        snapshot.queued = int(stats.get("queued", 0))
        snapshot.running = int(stats.get("running", 0))
        snapshot.sandboxes_busy = int(stats.get("sandboxes_busy", 0))
    return snapshot


@bp.get("/metrics")
async def metrics() -> Response:
    """Expose the app's metrics in the Prometheus text format."""
    app_metrics = get_metrics(current_app)
    app_metrics.snapshot.snapshot = await take_snapshot(current_app)
    # No await between taking the snapshot and rendering it: concurrent scrapes cannot mix.
    body = generate_latest(app_metrics.registry)
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


def init_app(app: Quart) -> AppMetrics:
    """Give ``app`` its metrics and the ``/metrics`` route; hook into finished judgings."""
    app_metrics = AppMetrics()
    app.extensions[EXTENSION_KEY] = app_metrics
    app.register_blueprint(bp)

    @app.before_serving
    async def _observe_judgings() -> None:
        dispatcher = find_dispatcher(app)
        if dispatcher is not None and app_metrics.observe_judging not in dispatcher.on_finished:
            dispatcher.on_finished.append(app_metrics.observe_judging)

    return app_metrics
