"""GET /metrics: Prometheus text from the app's own registry, counted at scrape time."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from quart import Quart
from quart.testing import QuartClient

from service.jobs import get_dispatcher
from service.metrics import get_metrics
from service.models import Role, Status
from service.submissions.service import submit
from tests.factories import (
    AppFactory,
    add_problem,
    add_submission,
    create_user,
    import_example,
    minutes,
)
from tests.fakes import FakeSandbox, hello_program, judge_on


async def scrape(client: QuartClient) -> dict[str, list[Sample]]:
    """Fetch /metrics, check its type, and return the samples of each family by name."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    text = await response.get_data(as_text=True)
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """Return the value of the sample ``name`` with exactly ``labels`` (0 when absent)."""
    for sample in samples:
        if sample.name == name and sample.labels == labels:
            return sample.value
    return 0.0


async def test_exposition_of_an_idle_app(client: QuartClient) -> None:
    families = await scrape(client)
    assert families["verdict_submissions"] == []  # counter family: no verdicts yet
    assert {s.labels["status"]: s.value for s in families["verdict_submissions_by_status"]} == {
        "queued": 0.0,
        "running": 0.0,
        "done": 0.0,
    }
    assert value(families["verdict_queue_length"], "verdict_queue_length") == 0
    assert value(families["verdict_sandboxes_busy"], "verdict_sandboxes_busy") == 0
    assert value(families["verdict_judgings_running"], "verdict_judgings_running") == 0
    assert families["verdict_evaluation_seconds"] == []
    assert {"process_cpu_seconds", "python_info", "python_gc_objects_collected"} <= set(families)


async def test_counts_come_from_the_database(app: Quart, client: QuartClient) -> None:
    person = await create_user(app)
    problem = await add_problem(app, "alpha")
    await add_submission(app, person, problem, minutes(1), "AC", 1.0)
    await add_submission(app, person, problem, minutes(2), "WA", 0.5)
    await add_submission(app, person, problem, minutes(3), "WA", 0.0)
    await add_submission(app, person, problem, minutes(4), status=Status.QUEUED)
    await add_submission(app, person, problem, minutes(5), status=Status.RUNNING)

    families = await scrape(client)

    verdicts = families["verdict_submissions"]
    assert value(verdicts, "verdict_submissions_total", verdict="AC") == 1
    assert value(verdicts, "verdict_submissions_total", verdict="WA") == 2
    statuses = families["verdict_submissions_by_status"]
    assert value(statuses, "verdict_submissions_by_status", status="queued") == 1
    assert value(statuses, "verdict_submissions_by_status", status="running") == 1
    assert value(statuses, "verdict_submissions_by_status", status="done") == 3


async def test_a_submission_moves_the_counts_and_the_histogram(make_app: AppFactory) -> None:
    sandbox = FakeSandbox(program=hello_program)

    async with make_app(judge_on(sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        person = await create_user(app, role=Role.STUDENT)
        before = await scrape(client)

        submission = await submit(app, person, "hello", "python3", [("hello.py", b"print(1)")])
        dispatcher = get_dispatcher(app)
        for _ in range(400):
            families = await scrape(client)
            done = value(
                families["verdict_submissions_by_status"],
                "verdict_submissions_by_status",
                status="done",
            )
            if done == 1 and dispatcher.stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}:
                break
            await asyncio.sleep(0.05)
        after = await scrape(client)

    assert submission.id is not None
    assert value(before["verdict_submissions"], "verdict_submissions_total", verdict="AC") == 0
    assert value(after["verdict_submissions"], "verdict_submissions_total", verdict="AC") == 1
    histogram = after["verdict_evaluation_seconds"]
    assert value(histogram, "verdict_evaluation_seconds_count", verdict="AC") == 1
    assert value(histogram, "verdict_evaluation_seconds_bucket", verdict="AC", le="+Inf") == 1
    assert value(histogram, "verdict_evaluation_seconds_sum", verdict="AC") > 0


async def test_queue_and_busy_sandboxes_follow_the_dispatcher(make_app: AppFactory) -> None:
    # One judging at a time (concurrency 2 // 2), each test run slow: the others wait.
    sandbox = FakeSandbox(program=hello_program, delay=0.5)

    async with make_app(judge_on(sandbox), evaluator_concurrency=2) as app:
        client = app.test_client()
        await import_example(app, "hello")
        person = await create_user(app)
        for _ in range(3):
            await submit(app, person, "hello", "python3", [("hello.py", b"print(1)")])
        for _ in range(100):
            families = await scrape(client)
            if value(families["verdict_sandboxes_busy"], "verdict_sandboxes_busy") >= 1:
                break
            await asyncio.sleep(0.02)
    # One judging runs (its tests in parallel on the sandbox), two wait in the queue.
    assert value(families["verdict_judgings_running"], "verdict_judgings_running") == 1
    assert value(families["verdict_sandboxes_busy"], "verdict_sandboxes_busy") >= 1
    assert value(families["verdict_queue_length"], "verdict_queue_length") == 2


async def test_every_app_has_its_own_registry(make_app: AppFactory) -> None:
    async with make_app() as first, make_app() as second:
        assert get_metrics(first).registry is not get_metrics(second).registry
        get_metrics(first).observe_judging("WA", 1.5)
        first_families = await scrape(first.test_client())
        second_families = await scrape(second.test_client())
    assert (
        value(
            first_families["verdict_evaluation_seconds"],
            "verdict_evaluation_seconds_count",
            verdict="WA",
        )
        == 1
    )
    assert second_families["verdict_evaluation_seconds"] == []
