"""Template context processors that run on the event loop, never in a worker thread.

Quart runs every synchronous context processor in its thread pool, on every render. Two come
from libraries: Flask's default processor, which each blueprint inherits from Flask's
scaffold and which finds no Flask context under Quart (it adds nothing), and Quart-Auth's
``current_user``, which only builds an object. Each cost a thread round trip per page (about
a millisecond on a busy machine: `bench/compare.py`). Once every blueprint is registered,
the first is dropped and any other synchronous one is called on the loop directly.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from flask.templating import _default_template_ctx_processor as flask_default
from quart import Quart

Processor = Callable[[], Any]


def init_app(app: Quart) -> None:
    """Tidy ``app``'s context processors when it starts serving (all blueprints are in)."""

    @app.before_serving
    async def _processors_on_the_loop() -> None:
        tidy(app)


def tidy(app: Quart) -> None:
    """Drop Flask's default processor and make every remaining one a coroutine function."""
    for processors in app.template_context_processors.values():
        processors[:] = [_on_the_loop(each) for each in processors if each is not flask_default]


def _on_the_loop(processor: Processor) -> Callable[[], Awaitable[Any]]:
    if inspect.iscoroutinefunction(processor):
        return processor

    async def call() -> Any:
        # Library processors only build values; none does I/O.
        return processor()

    call.__wrapped__ = processor  # type: ignore[attr-defined]
    return call
