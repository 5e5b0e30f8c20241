"""Keep-alive connections stay usable when the app answers before reading the request body."""

from __future__ import annotations

import socket

import httpx

from tests.factories import AppFactory, LiveServer, bearer, create_user, read_response, token_for


def test_a_response_sent_before_the_body_arrived_keeps_the_connection(server: LiveServer) -> None:
    body = b"x" * 100_000
    head = (
        f"POST /no/such/page HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    healthz = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head + body[:10_000])
        status, headers, _ = read_response(sock)  # the 404 comes before the body is complete
        assert status == 404
        assert headers.get("connection") != "close"
        sock.sendall(body[10_000:] + healthz)  # the rest of the body, then the next request
        assert read_response(sock)[0] == 200


async def test_a_404_before_a_100_kb_body_was_read_leaves_the_connection_usable(
    make_app: AppFactory, server: LiveServer
) -> None:
    async with make_app() as app:
        headers = bearer(await token_for(app, await create_user(app)))
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for _ in range(3):
            missing = client.post("/api/v1/no/such/thing", content=b"x" * 100_000)
            assert missing.status_code == 404
            # The next request on the same kept-alive connection gets its answer.
            assert client.get("/api/v1/me").status_code == 200


def test_a_refusal_before_a_small_body_was_read_leaves_the_connection_usable(
    server: LiveServer,
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        refused = client.post(
            "/logout",
            content=b"a=1&" * 50_000,  # 200 KB: over the 64 KiB of /logout
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert refused.status_code == 413
        assert client.get("/healthz").status_code == 200


def test_a_refusal_that_will_not_wait_for_a_large_body_says_connection_close(
    server: LiveServer,
) -> None:
    head = (
        f"POST /logout HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {15 * 1024 * 1024}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)
        status, headers, _ = read_response(sock)
        assert status == 413
        assert headers.get("connection") == "close"  # a client knows not to send more on it
        assert sock.recv(1) == b""  # and the server hangs up instead of reading 15 MiB
