"""require_account(): the signed-in user, or the refusal its surface names (page, API, socket)."""

from __future__ import annotations

import asyncio

from quart import Quart, ResponseReturnValue, websocket

from service.auth import Surface, require_account
from tests.factories import AppFactory, create_user, sign_in_as
from tests.fakes import ClosingWebsocketConnection, WebsocketClosed


async def page_probe() -> ResponseReturnValue:
    """Answer with the signed-in user's e-mail, refusing as a page does."""
    return (await require_account(Surface.PAGE)).email


async def api_probe() -> ResponseReturnValue:
    """Answer with the signed-in user's e-mail, refusing as the API does."""
    return {"email": (await require_account(Surface.API)).email}


async def socket_probe() -> None:
    """Send the signed-in user's e-mail, refusing as a WebSocket does."""
    account = await require_account(Surface.WEBSOCKET)
    await websocket.accept()
    await websocket.send(account.email)
    await websocket.close(1000)


def add_probes(app: Quart) -> None:
    """Add one route per surface (none under /api/, so only the surface decides)."""
    app.add_url_rule("/probe/page", "probe_page", page_probe)
    app.add_url_rule("/probe/api", "probe_api", api_probe)
    app.add_websocket("/probe/socket", "probe_socket", socket_probe)


async def test_each_surface_refuses_the_signed_out_its_own_way(make_app: AppFactory) -> None:
    async with make_app(setup=add_probes) as app:
        client = app.test_client()
        client.websocket_connection_class = ClosingWebsocketConnection  # type: ignore[assignment]

        page = await client.get("/probe/page?tab=1", headers={"Accept": "application/json"})
        assert page.status_code == 302
        assert page.headers["Location"] == "/login?next=/probe/page?tab%3D1"

        api = await client.get("/probe/api")
        assert api.status_code == 401
        assert await api.get_json() == {
            "error": "unauthorized",
            "message": "Sign in first, then retry.",
        }

        async with client.websocket("/probe/socket") as socket:
            try:
                await asyncio.wait_for(socket.receive(), 5)
            except WebsocketClosed as closed:
                code = closed.code
        assert code == 1008
        assert not socket.accepted  # type: ignore[attr-defined]


async def test_signed_in_every_surface_gets_the_account(make_app: AppFactory) -> None:
    async with make_app(setup=add_probes) as app:
        client = app.test_client()
        user = await create_user(app, email="ada@school.example")
        await sign_in_as(client, user)

        page = await client.get("/probe/page")
        assert await page.get_data(as_text=True) == "ada@school.example"
        api = await client.get("/probe/api")
        assert await api.get_json() == {"email": "ada@school.example"}
        async with client.websocket("/probe/socket") as socket:
            assert await asyncio.wait_for(socket.receive(), 5) == "ada@school.example"
