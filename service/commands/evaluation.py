"""Commands of the evaluator core: `judge`, `verify`, `languages`."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
