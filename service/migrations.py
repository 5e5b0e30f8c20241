"""Run the Alembic migrations from code (the `verdict db` commands and the tests).

Alembic's env.py runs its own event loop, so these functions are synchronous and must be
called outside a running loop (from a command, or through ``asyncio.to_thread``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parent.parent
SCRIPT_LOCATION = ROOT / "alembic"
INI_FILE = ROOT / "alembic.ini"


def alembic_config(database_url: str | None = None, *, quiet: bool = False) -> Config:
    """Return an Alembic config for the project's migrations (URL from settings if None)."""
    config = Config(
        str(INI_FILE) if INI_FILE.exists() else None, stdout=io.StringIO() if quiet else sys.stdout
    )
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    if quiet:
        config.attributes["configure_logger"] = False
    return config


def upgrade(
    database_url: str | None = None, revision: str = "head", *, quiet: bool = False
) -> None:
    """Migrate the database up to ``revision``."""
    command.upgrade(alembic_config(database_url, quiet=quiet), revision)


def downgrade(database_url: str | None, revision: str, *, quiet: bool = False) -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(database_url, quiet=quiet), revision)


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Migrate through an open sync connection (e.g. inside ``AsyncConnection.run_sync``)."""
    config = alembic_config(quiet=True)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    """Return the revision the database is at (None before the first migration)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
