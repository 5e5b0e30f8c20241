"""The `verdict` command line: one click group, commands registered from `service.commands`."""

from __future__ import annotations

import click

from service.commands import evaluation, problems, tokens, web


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Verdict: judge programs, manage the database and users."""


for _command in (*web.COMMANDS, *evaluation.COMMANDS, *problems.COMMANDS, *tokens.COMMANDS):
    main.add_command(_command)
