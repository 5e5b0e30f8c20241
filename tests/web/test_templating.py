"""Pages render on the event loop: no hook or template context processor waits on a thread."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from tests.factories import import_example, signed_in


async def test_a_page_renders_without_a_thread_round_trip(
    app: Quart, client: QuartClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_example(app, "hello")
    person = await signed_in(client, name="Ada Lovelace")
    await client.get("/problems")  # warm: the first render compiles the templates
    loop = asyncio.get_running_loop()
    handed_off: list[Any] = []
    real = loop.run_in_executor

    def counting(executor: Any, func: Any, *args: Any) -> Any:
        handed_off.append(getattr(args[0], "__wrapped__", args[0]) if args else func)
        return real(executor, func, *args)

    monkeypatch.setattr(loop, "run_in_executor", counting)
    # Pages that read no files (a problem page unpacks its package in a thread, rightly).
    for path in ("/problems", "/", "/account"):
        response = await client.get(path)
        page = await response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert person.name in page  # the `user` variable still reaches the layout
    assert handed_off == []


async def test_library_context_processors_still_provide_their_variables(
    app: Quart, client: QuartClient
) -> None:
    # Quart-Auth's `current_user` stays available to templates once it runs on the loop.
    await client.get("/")  # the app is serving: its processors are tidied
    async with app.test_request_context("/") as context:
        variables: dict[str, Any] = {}
        await app.update_template_context(context, variables)
    assert "current_user" in variables
    assert "user" in variables
