"""The `verdict problems` commands: import a package, list problems, hide and show them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from service.commands.web import run_with_session, settings_or_exit
from service.models import Problem
from service.problems.importer import ImportRefused, ImportResult, import_package
from service.problems.queries import list_all_problems, set_hidden


@click.group("problems")
def problems_group() -> None:
    """Import problem packages and manage the problems students see."""


@problems_group.command("import")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--verify", is_flag=True, help="Judge the package's submissions first; refuse on a mismatch."
)
@click.option("--hidden", is_flag=True, help="Hide the problem from students.")
@click.option("--problem-set", help="The problem set (default: unchanged, or 'default').")
@click.option("--slug", help="The slug (default: the folder's or zip's name).")
def problems_import(
    package: Path, verify: bool, hidden: bool, problem_set: str | None, slug: str | None
) -> None:
    """Import the problem package PACKAGE (a folder or a .zip), or update the slug's package."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> ImportResult:
        return await import_package(
            session,
            settings,
            package,
            verify=verify,
            hidden=True if hidden else None,
            problem_set=problem_set,
            slug=slug,
        )

    try:
        result = run_with_session(work)
    except ImportRefused as refused:
        raise click.ClickException(refused.message) from None
    problem = result.problem
    short = result.package_hash[:12]
    if result.created:
        click.echo(f"imported {problem.slug} ({short})")
    elif result.changed:
        click.echo(f"updated {problem.slug} ({short})")
    else:
        click.echo(f"unchanged {problem.slug} ({short})")
    if result.verification is not None:
        report = result.verification
        click.echo(
            f"verified: {report.matched} of {report.judged} submissions as expected, "
            f"{report.skipped} skipped; time limit {problem.time_limit:g} s"
        )


@problems_group.command("list")
def problems_list() -> None:
    """List every problem: slug, name, set, visibility and number of tests."""

    async def work(session: AsyncSession) -> Sequence[Problem]:
        return await list_all_problems(session)

    problems = run_with_session(work)
    if not problems:
        click.echo("no problems yet: import one with `verdict problems import PATH`")
        return
    for problem in problems:
        state = "hidden" if problem.hidden else "visible"
        click.echo(
            f"{problem.slug}\t{problem.name}\t{problem.problem_set}\t{state}\t"
            f"{problem.test_count} tests"
        )


def _set_hidden_command(slug: str, hidden: bool) -> None:
    async def work(session: AsyncSession) -> Problem | None:
        return await set_hidden(session, slug, hidden)

    problem = run_with_session(work)
    if problem is None:
        raise click.ClickException(f"no problem with slug {slug!r}; see `verdict problems list`")
    click.echo(f"{problem.slug} is now {'hidden' if hidden else 'visible'}")


@problems_group.command("hide")
@click.argument("slug")
def problems_hide(slug: str) -> None:
    """Hide the problem SLUG from students."""
    _set_hidden_command(slug, True)


@problems_group.command("show")
@click.argument("slug")
def problems_show(slug: str) -> None:
    """Show the problem SLUG to students again."""
    _set_hidden_command(slug, False)


COMMANDS: tuple[click.Command, ...] = (problems_group,)
