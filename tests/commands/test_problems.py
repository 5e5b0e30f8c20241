"""`verdict problems import|list|hide|show`, run as a person would run them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service import migrations
from service.cli import main
from tests.factories import copy_example, example_path, sqlite_url, zip_bomb, zip_folder


@pytest.fixture
def cli(
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    migrated_template: Path,
) -> CliRunner:
    database = tmp_path / "cli.db"
    shutil.copyfile(migrated_template, database)
    monkeypatch.setenv("DATABASE_URL", sqlite_url(database))
    monkeypatch.setenv("VERDICT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SANDBOX", "unsafe-rlimit")  # only harmless example programs run
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    """Invoke ``verdict ARGS`` and return the result."""
    return cli.invoke(main, list(args), catch_exceptions=False)


def test_import_then_reimport_prints_what_happened(cli: CliRunner, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello")

    first = run(cli, "problems", "import", str(package))
    again = run(cli, "problems", "import", str(package))
    (package / "problem.yaml").write_text("name: Hello Again\n")
    changed = run(cli, "problems", "import", str(package))

    assert first.exit_code == 0, first.output
    assert first.output.startswith("imported hello (")
    hash_prefix = first.output.split("(")[1][:12]
    assert len(hash_prefix) == 12
    assert (tmp_path / "data" / "packages").is_dir()
    assert again.output == f"unchanged hello ({hash_prefix})\n"
    assert changed.output.startswith("updated hello (")
    assert hash_prefix not in changed.output


def test_import_options_and_list(cli: CliRunner, tmp_path: Path) -> None:
    archive = zip_folder(example_path("floatdiv"), tmp_path / "floatdiv.zip")
    assert run(cli, "problems", "list").output.startswith("no problems yet")

    zipped = run(
        cli, "problems", "import", str(archive), "--slug", "share", "--problem-set", "Week 1"
    )
    hidden = run(cli, "problems", "import", str(example_path("hello")), "--hidden")
    listing = run(cli, "problems", "list")

    assert zipped.output.startswith("imported share (")
    assert hidden.output.startswith("imported hello (")
    assert listing.output.splitlines() == [  # by problem set, then name
        "share\tFair Shares\tWeek 1\tvisible\t6 tests",
        "hello\tHello World\tdefault\thidden\t2 tests",
    ]


def test_hide_and_show(cli: CliRunner) -> None:
    run(cli, "problems", "import", str(example_path("hello")))

    hidden = run(cli, "problems", "hide", "hello")
    listed_hidden = run(cli, "problems", "list")
    shown = run(cli, "problems", "show", "hello")
    missing = run(cli, "problems", "hide", "nope")

    assert hidden.output == "hello is now hidden\n"
    assert "\thidden\t" in listed_hidden.output
    assert shown.output == "hello is now visible\n"
    assert run(cli, "problems", "list").output.split("\t")[3] == "visible"
    assert missing.exit_code == 1
    assert "no problem with slug 'nope'" in missing.output


def test_a_refused_import_exits_1_with_the_message_and_stores_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    result = run(cli, "problems", "import", str(zip_bomb(tmp_path / "bomb.zip")))

    assert result.exit_code == 1
    assert "zip bomb" in result.output
    assert not (tmp_path / "data" / "packages").exists() or not any(
        (tmp_path / "data" / "packages").iterdir()
    )
    assert run(cli, "problems", "list").output.startswith("no problems yet")


def test_import_with_verify_refuses_a_disagreeing_package(cli: CliRunner, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "submissions" / "accepted" / "goodbye.py").write_text("print('Goodbye!')\n")

    refused = run(cli, "problems", "import", str(package), "--verify")
    (package / "submissions" / "accepted" / "goodbye.py").unlink()
    verified = run(cli, "problems", "import", str(package), "--verify")

    assert refused.exit_code == 1
    assert "accepted/goodbye.py: expected AC, got WA" in refused.output
    assert verified.exit_code == 0, verified.output
    assert verified.output.splitlines()[1].startswith("verified: 1 of 1 submissions as expected")


def test_an_unmigrated_database_is_reported(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "empty.db"))
    monkeypatch.setenv("VERDICT_DATA_DIR", str(tmp_path / "data"))

    result = CliRunner().invoke(main, ["problems", "list"])

    assert result.exit_code == 1
    assert "verdict db upgrade" in result.output
    migrations.upgrade(sqlite_url(tmp_path / "empty.db"), quiet=True)
    assert CliRunner().invoke(main, ["problems", "list"]).exit_code == 0
