"""The async SQLAlchemy engine and session factory, held on the app for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from quart import Quart, current_app
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.config import get_settings

EXTENSION_KEY = "verdict.db"


class Database:
    """One engine and its session factory; created before serving, disposed after."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None

    def start(self) -> None:
        """Create the engine (and the SQLite file's folder)."""
        self.engine = create_engine(self.url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def stop(self) -> None:
        """Dispose of the engine's connections."""
        if self.engine is not None:
            await self.engine.dispose()
        self.engine = None
        self.sessions = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session; the caller commits."""
        if self.sessions is None:
            raise RuntimeError("the database is not started (is the app serving?)")
        async with self.sessions() as session:
            yield session


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def runs_to_the_end[**P, T](
    write: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T]]:
    """Let a database write finish even when its task is cancelled (the server stopping).

    A write cut off mid-transaction can leave its connection holding SQLite's write lock, and
    then every later write (the judging's own release included) waits for it and fails. The
    cancelled caller still gets CancelledError, once the write has committed or failed.
    """

    @functools.wraps(write)
    async def shielded(*args: P.args, **kwargs: P.kwargs) -> T:
        task = asyncio.ensure_future(write(*args, **kwargs))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
            raise

    return shielded


def init_app(app: Quart) -> Database:
    """Attach a Database on the settings' URL to ``app``, started before serving, stopped after."""
    database = Database(get_settings(app).database_url)
    app.extensions[EXTENSION_KEY] = database

    @app.before_serving
    async def _start_database() -> None:
        database.start()

    @app.after_serving
    async def _stop_database() -> None:
        await database.stop()

    return database


def get_db(app: Quart | None = None) -> Database:
    """Return the Database of ``app`` (default: the current app)."""
    database: Database = (app or current_app).extensions[EXTENSION_KEY]
    return database
