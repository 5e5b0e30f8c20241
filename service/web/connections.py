"""Keep-alive connections that stay usable when a response comes before the request body.

Hypercorn reuses an HTTP/1.1 connection only when the request body was read to its end by
the time the response ends; otherwise it hangs up, without having said ``Connection: close``.
A client that sent a 100 KB body and got an early answer (a 404, a 413 from the body limits,
a 401) then sent its next request on a dead connection: "Server disconnected without sending
a response". This ASGI middleware, wrapped around the app, watches the body arrive and, when
the response starts before the body is complete:

- a rest of at most :data:`DRAIN_MAX_BYTES` is waited for (Quart reads and drops it) before
  the response ends, at most :data:`DRAIN_SECONDS`, so the connection is kept;
- a larger or unknown rest (chunked) is not waited for: the response says
  ``Connection: close``, and the client opens a new connection for its next request.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, cast

from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)
from quart import Quart

#: The most unread body a response waits for, to keep the connection open.
DRAIN_MAX_BYTES = 1024 * 1024
#: The longest a response waits for that rest of the body.
DRAIN_SECONDS = 5.0

ASGIApp = Any  # an ASGI callable: (scope, receive, send) -> None


@dataclass
class _Body:
    """How much of one request's body has arrived."""

    expected: int | None  # None: chunked, length unknown
    received: int = 0
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def remaining(self) -> int | None:
        """Return the bytes still to come (None when unknown)."""
        if self.complete.is_set():
            return 0
        return None if self.expected is None else max(0, self.expected - self.received)


class KeepAliveMiddleware:
    """Wrap an ASGI app so early responses drain a small body or say Connection: close."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Serve one ASGI connection, watching its request body if it is HTTP."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(expected=_declared_length(scope["headers"]))
        waits = False

        async def watched_receive() -> ASGIReceiveEvent:
            message = await receive()
            if message["type"] == "http.request":
                body.received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    body.complete.set()
            elif message["type"] == "http.disconnect":
                body.complete.set()
            return message

        async def guarded_send(message: ASGISendEvent) -> None:
            nonlocal waits
            if message["type"] == "http.response.start":
                remaining = body.remaining()
                if remaining is None or remaining > DRAIN_MAX_BYTES:
                    headers = [*message["headers"], (b"connection", b"close")]
                    message = cast(ASGISendEvent, {**message, "headers": headers})
                else:
                    waits = remaining > 0
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if waits and last:
                if message.get("body"):
                    await send(cast(ASGISendEvent, {**message, "more_body": True}))
                    message = cast(ASGISendEvent, {**message, "body": b""})
                # Quart keeps reading (and dropping) the body meanwhile; once it is all in,
                # the connection can carry the next request.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(body.complete.wait(), DRAIN_SECONDS)
            await send(message)

        await self.app(scope, watched_receive, guarded_send)


def _declared_length(headers: Any) -> int | None:
    """Return the body length the request declared: 0 without a body, None when chunked."""
    length: int | None = 0
    for name, value in headers:
        lowered = bytes(name).lower()
        if lowered == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
        if lowered == b"transfer-encoding":
            length = None
    return length


def init_app(app: Quart) -> None:
    """Wrap ``app``'s ASGI callable in :class:`KeepAliveMiddleware`."""
    app.asgi_app = KeepAliveMiddleware(app.asgi_app)  # type: ignore[method-assign]
