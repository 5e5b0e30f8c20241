"""Managing people from the command line's services: roles and disabling."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.auth.users import UnknownUser, set_disabled, set_role
from service.db import get_db
from service.models import Role
from tests.factories import count_sessions
from tests.fakes import FakeProvider, sign_in


async def test_set_role_by_email(app: Quart, client: QuartClient, provider: FakeProvider) -> None:
    await sign_in(client, provider)
    async with get_db(app).session() as db:
        [user] = await set_role(db, " ADA@school.example ", Role.STAFF)
        await db.commit()
    assert user.role is Role.STAFF


async def test_disabling_revokes_sessions_and_enabling_allows_sign_in(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    async with get_db(app).session() as db:
        await set_disabled(db, "ada@school.example")
        await db.commit()
    assert await count_sessions(app, live_only=True) == 0
    assert (await sign_in(app.test_client(), provider)).status_code == 403

    async with get_db(app).session() as db:
        await set_disabled(db, "ada@school.example", disabled=False)
        await db.commit()
    assert (await sign_in(app.test_client(), provider)).status_code == 302


async def test_unknown_email_is_named(app: Quart) -> None:
    async with get_db(app).session() as db:
        with pytest.raises(UnknownUser, match=r"nobody@school\.example"):
            await set_role(db, "nobody@school.example", Role.ADMIN)
