"""Request bodies are bounded before they are parsed: per route size, form fields, JSON shape."""

from __future__ import annotations

import json
import socket
import threading
from functools import cache

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.web.limits import LIMITED_ENDPOINTS
from tests.factories import (
    AppFactory,
    LiveServer,
    create_user,
    csrf_token,
    healthz_latencies,
    import_example,
    median_ms,
    read_response,
    sign_in_as,
    token_for,
    user_with_token,
)
from tests.fakes import FakeSandbox, hello_program, judge_on

#: /healthz must answer within this while the attacks arrive (DESIGN: pages p99 < 100 ms).
HEALTHZ_BUDGET_MS = 100
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@cache
def form_attack() -> bytes:
    """Return the issue's anonymous attack: 15 MiB of form with about 4 million fields."""
    return b"a=1&" * (15 * 1024 * 1024 // 4)


@cache
def json_attack() -> bytes:
    """Return the issue's signed-in attack: a JSON object of 1.3 million keys (14 MB)."""
    keys = {format(index, "x"): 1 for index in range(1_300_000)}
    return json.dumps(keys, separators=(",", ":")).encode()


def post_head(server: LiveServer, path: str, length: int, content_type: str, extra: str) -> bytes:
    """Return the head of a POST of ``length`` body bytes."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


def send_attack(server: LiveServer, head: bytes, body: bytes, statuses: list[int]) -> None:
    """Send one request whole (the server may hang up early); record the status if one came."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        try:
            sock.sendall(head + body)
            statuses.append(read_response(sock)[0])
        except OSError:
            statuses.append(0)  # refused and closed while we were still sending: fine


# ---------------------------------------------------------------- a real server


def test_a_body_over_the_route_limit_is_refused_before_it_is_sent(server: LiveServer) -> None:
    head = post_head(server, "/logout", len(form_attack()), "application/x-www-form-urlencoded", "")
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)  # the head only: the server answers without a byte of the body
        status, _, body = read_response(sock)
    assert status == 413
    assert "at most" in body.decode()


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    make_app: AppFactory, server: LiveServer
) -> None:
    async with make_app() as app:
        token = await token_for(app, await create_user(app))
    head = (
        f"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)
        for _ in range(16):  # 1 MiB, more than twice a submission's limit; no Content-Length
            sock.sendall(chunk)
        sock.sendall(b"0\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 413
    assert json.loads(body)["error"] == "request_entity_too_large"


@pytest.mark.slow  # about 7 s: a server, three 15 MB bodies, 4 s of probes
@pytest.mark.parametrize("attack", ["anonymous form", "signed-in JSON"])
async def test_healthz_stays_fast_while_huge_bodies_arrive(
    make_app: AppFactory, server: LiveServer, attack: str
) -> None:
    if attack == "anonymous form":
        head = post_head(
            server, "/logout", len(form_attack()), "application/x-www-form-urlencoded", ""
        )
        body = form_attack()
    else:
        async with make_app() as app:
            token = await token_for(app, await create_user(app))
        head = post_head(
            server,
            "/api/v1/submissions",
            len(json_attack()),
            "application/json",
            f"Authorization: Bearer {token}\r\n",
        )
        body = json_attack()
    statuses: list[int] = []
    attackers = [
        threading.Thread(target=send_attack, args=(server, head, body, statuses)) for _ in range(3)
    ]
    for thread in attackers:
        thread.start()
    # Unfixed, each body stalled the event loop for seconds, and every probe started meanwhile
    # waited. The median of many probes (not the slowest) keeps a loaded machine from failing.
    latencies = healthz_latencies(server, seconds=4)
    for thread in attackers:
        thread.join()
    assert median_ms(latencies) < HEALTHZ_BUDGET_MS, [round(s * 1000) for s in latencies]
    assert set(statuses) <= {413, 0}, statuses


# ---------------------------------------------------------------- forms


async def test_a_form_with_too_many_fields_is_refused(app: Quart, client: QuartClient) -> None:
    await sign_in_as(client, await create_user(app))
    fields = {"csrf_token": await csrf_token(client)} | {f"f{i}": "1" for i in range(2000)}
    response = await client.post("/logout", form=fields)
    assert response.status_code == 413
    assert "fields" in await response.get_data(as_text=True)


async def test_a_form_over_the_route_limit_is_refused_before_it_is_parsed(
    app: Quart, client: QuartClient
) -> None:
    await sign_in_as(client, await create_user(app))
    await csrf_token(client)  # the session has a token: the CSRF check would read the form
    body = form_attack()[: 4 * 1024 * 1024]
    headers = FORM | {"Content-Length": str(len(body))}
    response = await client.post("/logout", data=body, headers=headers)
    assert response.status_code == 413
    assert "at most 65536 bytes" in await response.get_data(as_text=True)


# ---------------------------------------------------------------- JSON


@pytest.fixture
async def judging(make_app: AppFactory) -> Quart:
    """Serve an app judging on a fake sandbox (submissions are accepted)."""
    async with make_app(judge_on(FakeSandbox(program=hello_program))) as app:
        await import_example(app, "hello")
        yield app


def python(source: str = "print(1)\n", **extra: object) -> dict[str, object]:
    """Return the JSON of a Python submission to the hello problem."""
    return {"problem": "hello", "language": "python3", "source": source, **extra}


async def post_json(app: Quart, body: bytes, path: str = "/api/v1/submissions") -> tuple[int, dict]:
    """Post raw JSON bytes with a fresh user's token; return the status and JSON answer."""
    _, headers = await user_with_token(app)
    response = await app.test_client().post(
        path, data=body, headers=headers | {"Content-Type": "application/json"}
    )
    return response.status_code, await response.get_json()


async def test_json_nested_deeper_than_the_limit_is_refused(judging: Quart) -> None:
    depth = 100_000
    body = b'{"problem": ' + b"[" * depth + b"]" * depth + b"}"
    status, answer = await post_json(judging, body)
    assert status == 422, answer
    assert answer["error"] == "too_deeply_nested"
    assert "nested" in answer["message"]


async def test_json_with_too_many_values_is_refused(judging: Quart) -> None:
    body = json.dumps(python(padding=[0] * 100_000)).encode()  # 300 KB: under the byte limit
    status, answer = await post_json(judging, body)
    assert status == 413, answer
    assert answer["error"] == "too_many_values"


async def test_json_over_the_route_limit_is_refused(judging: Quart) -> None:
    status, answer = await post_json(judging, json_attack())
    assert status == 413, answer
    assert answer["error"] == "request_entity_too_large"
    assert "at most" in answer["message"]


@pytest.mark.parametrize(
    "source",
    [
        "#" * 65535 + "\n",  # MAX_SOURCE_BYTES of ASCII
        "#" + "\x01" * 65533 + "\n",  # the same bytes, each escaped to six in JSON
    ],
    ids=["ascii", "escaped"],
)
async def test_a_source_at_the_size_limit_still_fits_in_json(judging: Quart, source: str) -> None:
    status, answer = await post_json(judging, json.dumps(python(source)).encode())
    assert status == 202, answer


async def test_a_full_batch_still_fits(judging: Quart) -> None:
    items = [python("#" * 65535 + "\n") for _ in range(20)]
    status, answer = await post_json(
        judging, json.dumps({"submissions": items}).encode(), "/api/v1/submissions/batch"
    )
    assert status == 200, answer
    assert [result["status"] for result in answer["results"]] == [202] * 20


def test_every_route_with_a_limit_of_its_own_exists(app: Quart) -> None:
    assert set(app.view_functions) >= LIMITED_ENDPOINTS


async def test_a_multipart_form_with_too_many_parts_is_refused(
    app: Quart, client: QuartClient
) -> None:
    await sign_in_as(client, await create_user(app))
    token = await csrf_token(client)
    boundary = "limit-test"
    parts = [("csrf_token", token)] + [(f"f{index}", "1") for index in range(150)]
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in parts
        )
        + f"--{boundary}--\r\n"
    )
    response = await client.post(
        "/logout",
        data=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert "at most 100 fields" in await response.get_data(as_text=True)
