"""Importing packages: create, update, unchanged, refusals (nothing stored) and verification."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select

from service.config import get_settings
from service.db import get_db
from service.evaluator import RunResult, RunSpec, SandboxUnavailable, create_sandbox
from service.models import PackageVersion, Problem, Role, Status, Submission
from service.packages import PackageStore
from service.problems import importer
from service.problems.importer import ImportRefused, slug_from_filename
from tests.factories import (
    AppFactory,
    assert_nothing_stored,
    copy_example,
    create_user,
    example_path,
    import_example,
    load_problem,
    run_import,
    yaml_alias_bomb,
    yaml_nested,
    zip_bomb,
    zip_folder,
)
from tests.fakes import FakeSandbox, exited
from tests.helpers import require_or_skip

HELLO = "Hello World!\n"


async def versions(app: Quart, problem_id: int) -> Sequence[PackageVersion]:
    async with get_db(app).session() as db:
        query = select(PackageVersion).where(PackageVersion.problem_id == problem_id)
        return (await db.execute(query.order_by(PackageVersion.id))).scalars().all()


def greeter(stdin: bytes, spec: RunSpec) -> RunResult:
    """A fake program: ``wrong*`` files say goodbye, the others greet in 300 ms of CPU."""
    if Path(spec.argv[-1]).name.startswith("wrong"):
        return exited(b"Goodbye\n")
    return exited(HELLO.encode(), cpu_ms=300)


async def test_importing_a_folder_creates_the_problem_and_its_first_version(app: Quart) -> None:
    staff = await create_user(app, role=Role.STAFF)
    result = await run_import(app, example_path("hello"), imported_by=staff)

    problem = result.problem
    assert (result.created, result.changed, result.verification) == (True, True, None)
    assert (problem.slug, problem.name, problem.problem_set, problem.hidden) == (
        "hello",
        "Hello World",
        "default",
        False,
    )
    assert (problem.time_limit, problem.memory_mb, problem.output_mb) == (1.0, 256, 8)
    assert (problem.test_count, problem.sample_count, problem.validation) == (2, 1, "default")
    assert problem.statement_kind == "markdown"
    assert "<h2>Input</h2>" in problem.statement_html
    assert problem.package_hash == result.package_hash
    store = PackageStore(get_settings(app).package_dir)
    assert store.has(result.package_hash)
    [version] = await versions(app, problem.id)
    assert version.package_hash == result.package_hash
    assert version.size_bytes == store.path(result.package_hash).stat().st_size
    assert (version.imported_by_id, version.verified) == (staff.id, False)


async def test_reimporting_a_slug_keeps_the_id_and_submissions_and_adds_a_version(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "hello")
    first = await run_import(app, package)
    student = await create_user(app)
    async with get_db(app).session() as db:
        db.add(
            Submission(
                user_id=student.id,
                problem_id=first.problem.id,
                language="python3",
                status=Status.DONE,
                verdict="AC",
                score=1.0,
            )
        )
        await db.commit()
    (package / "problem.yaml").write_text("name: Hello Again\nlimits:\n  memory: 512\n")

    second = await run_import(app, package)

    assert (second.created, second.changed) == (False, True)
    assert second.problem.id == first.problem.id
    assert second.package_hash != first.package_hash
    stored = await load_problem(app, "hello")
    assert stored is not None
    assert (stored.name, stored.memory_mb, stored.package_hash) == (
        "Hello Again",
        512,
        second.package_hash,
    )
    assert [v.package_hash for v in await versions(app, first.problem.id)] == [
        first.package_hash,
        second.package_hash,
    ]
    async with get_db(app).session() as db:
        kept = await db.scalar(select(func.count()).select_from(Submission))
    assert kept == 1
    assert PackageStore(get_settings(app).package_dir).has(first.package_hash)


async def test_reimporting_the_same_package_changes_nothing(app: Quart, tmp_path: Path) -> None:
    first = await run_import(app, example_path("hello"))
    archive = zip_folder(example_path("hello"), tmp_path / "hello.zip", top="hello")

    again = await run_import(app, example_path("hello"))
    from_zip = await run_import(app, archive)

    for result in (again, from_zip):
        assert (result.created, result.changed) == (False, False)
        assert result.package_hash == first.package_hash
    assert len(await versions(app, first.problem.id)) == 1


async def test_a_zip_imports_under_its_file_name_or_the_slug_given(
    app: Quart, tmp_path: Path
) -> None:
    archive = zip_folder(example_path("floatdiv"), tmp_path / "division.zip")

    by_name = await run_import(app, archive)
    by_slug = await run_import(app, archive, slug="share")

    assert (by_name.problem.slug, by_slug.problem.slug) == ("division", "share")
    assert by_name.package_hash == by_slug.package_hash
    assert by_name.problem.sample_count == 2


async def test_hidden_and_problem_set_apply_when_given_and_stay_otherwise(app: Quart) -> None:
    created = await run_import(app, example_path("hello"), hidden=True, problem_set=" Week 1 ")
    kept = await run_import(app, example_path("hello"))
    shown = await run_import(app, example_path("hello"), hidden=False, problem_set="Week 2")

    assert (created.problem.hidden, created.problem.problem_set) == (True, "Week 1")
    assert (kept.problem.hidden, kept.problem.problem_set) == (True, "Week 1")
    assert (shown.problem.hidden, shown.problem.problem_set) == (False, "Week 2")


async def test_the_package_time_limit_wins(app: Quart, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "limits", "limits", keep=("accepted/steps.py",))
    (package / ".timelimit").write_text("3\n")

    result = await run_import(app, package)

    assert result.problem.time_limit == 3.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slug": "Bad Slug"}, "slug 'Bad Slug'"),
        ({"slug": "import"}, "reserved"),
        ({"problem_set": "!"}, "problem set '!'"),
    ],
)
async def test_bad_options_are_refused_with_nothing_stored(
    app: Quart, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ImportRefused, match=message):
        await run_import(app, example_path("hello"), **kwargs)
    await assert_nothing_stored(app)


async def test_a_malformed_package_is_refused_naming_the_file(app: Quart, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "broken")
    (package / "problem.yaml").write_text("name: [unclosed\n")

    with pytest.raises(ImportRefused, match=r"problem\.yaml: invalid YAML"):
        await run_import(app, package)
    with pytest.raises(ImportRefused, match="no such package"):
        await run_import(app, tmp_path / "missing.zip")
    await assert_nothing_stored(app)


async def test_a_zip_bomb_is_refused_with_nothing_stored(app: Quart, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="zip bomb"):
        await run_import(app, zip_bomb(tmp_path / "bomb.zip"))
    await assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (yaml_alias_bomb(7), "values once its aliases are expanded"),
        (yaml_nested(5000), "nested deeper than"),
    ],
    ids=["alias-bomb", "deep-nesting"],
)
async def test_hostile_yaml_in_a_zip_is_refused_with_nothing_stored(
    app: Quart, tmp_path: Path, config: str, reason: str
) -> None:
    package = copy_example(tmp_path / "hostile")
    (package / "problem.yaml").write_text(config)
    with pytest.raises(ImportRefused, match=rf"^problem\.yaml: refused: .*{reason}"):
        await run_import(app, zip_folder(package, tmp_path / "hostile.zip"))
    await assert_nothing_stored(app)


async def test_a_zip_over_the_size_limit_is_refused_unread(
    make_app: AppFactory, tmp_path: Path
) -> None:
    archive = zip_folder(example_path("hello"), tmp_path / "hello.zip")
    async with make_app(max_package_bytes=1024) as app:
        with pytest.raises(ImportRefused, match="MAX_PACKAGE_BYTES"):
            await run_import(app, archive)
        await assert_nothing_stored(app)


async def test_verify_measures_the_time_limit_and_marks_the_version(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(
        tmp_path / "hello", keep=("accepted/hello.py", "wrong_answer/lowercase.py")
    )
    (package / "submissions" / "wrong_answer" / "lowercase.py").rename(
        package / "submissions" / "wrong_answer" / "wrong.py"
    )

    result = await run_import(app, package, verify=True, sandbox=FakeSandbox(program=greeter))

    report = result.verification
    assert report is not None
    assert (report.judged, report.matched, report.time_limit_source) == (2, 2, "derived")
    assert result.problem.time_limit == 2.0  # 300 ms x 5, rounded up
    [version] = await versions(app, result.problem.id)
    assert version.verified


async def test_an_unchanged_reimport_keeps_the_measured_limit_and_verify_marks_it(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    await run_import(app, package)
    unverified = (await versions(app, (await run_import(app, package)).problem.id))[0]
    assert not unverified.verified

    verified = await run_import(app, package, verify=True, sandbox=FakeSandbox(program=greeter))
    plain = await run_import(app, package)

    assert verified.changed is False
    assert (verified.problem.time_limit, plain.problem.time_limit) == (2.0, 2.0)
    [version] = await versions(app, verified.problem.id)
    assert version.verified


async def test_a_package_whose_submission_disagrees_is_refused_listing_it(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "submissions" / "accepted" / "wrong.py").write_text("print('Goodbye')\n")

    with pytest.raises(ImportRefused) as refused:
        await run_import(app, package, verify=True, sandbox=FakeSandbox(program=greeter))

    assert "accepted/wrong.py: expected AC, got WA" in refused.value.message
    assert "accepted/hello.py" not in refused.value.message
    await assert_nothing_stored(app)


async def test_verify_with_nothing_to_judge_is_refused(app: Quart, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "submissions" / "accepted" / "hello.py").rename(
        package / "submissions" / "accepted" / "hello.unknown"
    )

    with pytest.raises(ImportRefused, match="judged no submission"):
        await run_import(app, package, verify=True, sandbox=FakeSandbox(program=greeter))
    await assert_nothing_stored(app)


@pytest.mark.parametrize(
    "mode", [pytest.param("bwrap", marks=pytest.mark.sandbox), "unsafe-rlimit"]
)
async def test_verify_in_a_real_sandbox_refuses_a_wrong_accepted_submission(
    make_app: AppFactory, tmp_path: Path, mode: str
) -> None:
    try:
        create_sandbox(mode, 1).close()
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode} unavailable: {error}")
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "submissions" / "accepted" / "goodbye.py").write_text("print('Goodbye!')\n")

    async with make_app(sandbox=mode, evaluator_concurrency=2) as app:
        with pytest.raises(ImportRefused, match=r"accepted/goodbye\.py: expected AC, got WA"):
            await run_import(app, package, verify=True)  # the sandbox the settings name
        await assert_nothing_stored(app)
        (package / "submissions" / "accepted" / "goodbye.py").unlink()
        result = await run_import(app, package, verify=True)
        assert result.verification is not None
        assert result.verification.matched == 1


async def test_a_validator_that_does_not_build_refuses_verification(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "anypath", "anypath", keep=("accepted/bfs.py",))
    (package / "output_validator" / "validate.py").unlink()
    (package / "output_validator" / "validate.c").write_text("int main(void) { return nope; }\n")
    sandbox = FakeSandbox(compiler=lambda spec: exited(code=1, stderr=b"error: 'nope' undeclared"))

    with pytest.raises(ImportRefused, match="cannot verify: "):
        await run_import(app, package, verify=True, sandbox=sandbox)
    await assert_nothing_stored(app)


async def test_verify_refuses_test_data_that_fails_the_input_validators(
    app: Quart, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "input_validators").mkdir()
    (package / "input_validators" / "empty.py").write_text(
        "import sys\nsys.exit(42 if sys.stdin.read() == '' else 43)\n"
    )
    (package / "data" / "secret" / "extra.in").write_text("not empty\n")
    (package / "data" / "secret" / "extra.ans").write_text(HELLO)

    def programs(stdin: bytes, spec: RunSpec) -> RunResult:
        if spec.argv[-1] == "empty.py":  # the input validator: only empty inputs are valid
            return exited(code=42 if stdin == b"" else 43, stderr=b"input must be empty")
        return greeter(stdin, spec)

    with pytest.raises(ImportRefused) as refused:
        await run_import(app, package, verify=True, sandbox=FakeSandbox(program=programs))

    assert refused.value.message == (
        "verification failed: 1 test input(s) fail the package's input validators: "
        "secret/extra: input validator empty rejected it: input must be empty"
    )
    await assert_nothing_stored(app)


async def test_a_refusal_names_at_most_ten_mismatches(app: Quart, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    for number in range(12):
        (package / "submissions" / "accepted" / f"wrong{number:02}.py").write_text("print(1)\n")

    with pytest.raises(ImportRefused) as refused:
        await run_import(app, package, verify=True, sandbox=FakeSandbox(program=greeter))

    message = refused.value.message
    assert message.startswith("verification failed: 12 submission(s)")
    assert "accepted/wrong09.py" in message and "accepted/wrong10.py" not in message
    assert message.endswith("; and 2 more")
    await assert_nothing_stored(app)


async def test_verify_without_a_working_sandbox_is_refused(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing_bubblewrap(mode: str, slots: int | None = None) -> None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")

    # The machine as it would be without bubblewrap.
    monkeypatch.setattr(importer, "create_sandbox", missing_bubblewrap)
    async with make_app(sandbox="bwrap") as app:
        with pytest.raises(ImportRefused, match="the sandbox is unavailable"):
            await run_import(app, example_path("hello"), verify=True)
        await assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("filename", "slug"),
    [
        ("hello.zip", "hello"),
        ("two-sums", "two-sums"),
        ("Hello World (2).ZIP", "hello-world-2"),
        ("C:\\fakepath/two_sums.zip", "two_sums"),
        ("!!!.zip", "package"),
        ("x" * 80 + ".zip", "x" * 64),
    ],
)
def test_an_uploads_file_name_becomes_a_slug(filename: str, slug: str) -> None:
    assert slug_from_filename(filename) == slug


async def test_verifying_an_import_opens_its_sandbox_off_the_event_loop(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_in: list[threading.Thread] = []

    def unavailable(mode: str, slots: int | None = None) -> Any:
        opened_in.append(threading.current_thread())
        raise SandboxUnavailable("no sandbox in this test")

    monkeypatch.setattr("service.problems.importer.create_sandbox", unavailable)
    async with make_app(start_evaluator=False) as app:
        with pytest.raises(ImportRefused) as caught:
            await import_example(app, verify=True)
        async with get_db(app).session() as db:
            assert await db.scalar(select(func.count()).select_from(Problem)) == 0
    assert "sandbox is unavailable" in str(caught.value)
    assert len(opened_in) == 1 and opened_in[0] is not threading.main_thread()


async def test_an_import_reads_the_package_off_the_event_loop(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsing YAML is CPU work: on the loop, a slow package would stall every request.
    read_in: list[threading.Thread] = []
    real_load = importer.load_package

    def load(*args: Any, **kwargs: Any) -> Any:
        read_in.append(threading.current_thread())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(importer, "load_package", load)
    await import_example(app)
    assert len(read_in) == 1 and read_in[0] is not threading.main_thread()
