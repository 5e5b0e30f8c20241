"""The database held by the app: SQLite settings, lifetime, and the schema it serves."""

from __future__ import annotations

import asyncio

import pytest
from quart import Quart
from sqlalchemy import select, text

from service.db import Database, get_db
from service.models import LoginSession, User
from service.models.base import utcnow
from tests.factories import create_user


async def test_sqlite_connections_are_tuned(app: Quart) -> None:
    async with get_db(app).session() as db:
        assert (await db.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert (await db.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await db.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30000


async def test_deleting_a_user_deletes_their_sessions(app: Quart) -> None:
    user = await create_user(app)
    async with get_db(app).session() as db:
        db.add(LoginSession(token_hash="a" * 64, user_id=user.id, expires_at=utcnow()))
        await db.commit()
        await db.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
        await db.commit()
        assert (await db.execute(select(LoginSession))).first() is None


async def test_timestamps_come_back_in_utc(app: Quart) -> None:
    user = await create_user(app)
    async with get_db(app).session() as db:
        loaded = (await db.execute(select(User).where(User.id == user.id))).scalar_one()
    assert loaded.created_at.utcoffset() is not None
    assert loaded.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


async def test_session_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        async with Database("sqlite+aiosqlite:///:memory:").session():
            pass


async def test_a_cancelled_write_still_finishes_before_its_caller_sees_the_cancel() -> None:
    from service.db import runs_to_the_end

    steps: list[str] = []
    entered = asyncio.Event()

    @runs_to_the_end
    async def write() -> str:
        steps.append("begin")
        entered.set()
        await asyncio.sleep(0.05)  # the statement and the commit, in flight
        steps.append("commit")
        return "stored"

    task = asyncio.create_task(write())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["begin", "commit"]
    assert await write() == "stored"  # uncancelled calls return the write's result
