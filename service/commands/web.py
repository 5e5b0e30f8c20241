"""Commands that need the web app's settings and database: `db`, `users`."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
