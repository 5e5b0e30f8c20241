"""The OAuth attack matrix: every forged or broken callback is refused and opens no session."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from quart import Quart
from quart.testing import QuartClient

from tests.factories import AppFactory, auth_cookie, count_sessions, csrf_token
from tests.fakes import (
    KID,
    FakeProvider,
    begin_sign_in,
    hs256_with_public_key,
    other_key,
    sign_in,
    unsigned_token,
)

Query = dict[str, str]


def _valid(params: Query) -> Query:
    return {"state": params["state"], "code": "auth-code-1"}


@dataclass(frozen=True)
class FromNow:
    """A timestamp claim ``seconds`` from the moment the attack is set up (not collected)."""

    seconds: int


def _claims(**changes: Any) -> Callable[[FakeProvider], None]:
    def setup(provider: FakeProvider) -> None:
        now = int(time.time())
        provider.claims = {
            key: now + value.seconds if isinstance(value, FromNow) else value
            for key, value in changes.items()
        }

    return setup


def _token_reply(response: httpx.Response | type[Exception]) -> Callable[[FakeProvider], None]:
    def setup(provider: FakeProvider) -> None:
        if isinstance(response, httpx.Response):
            provider.token.mock(return_value=response, side_effect=None)
        else:
            provider.token.mock(side_effect=response)

    return setup


def _id_token(make: Callable[[FakeProvider], str]) -> Callable[[FakeProvider], None]:
    def setup(provider: FakeProvider) -> None:
        provider.id_token = make(provider)

    return setup


def _nothing(provider: FakeProvider) -> None:
    return None


@dataclass(frozen=True)
class Attack:
    """One hostile or broken callback and how the app must answer it."""

    name: str
    status: int
    says: str
    query: Callable[[Query], Query] = _valid
    provider: Callable[[FakeProvider], None] = _nothing
    settings: dict[str, Any] = field(default_factory=dict)


ATTACKS = [
    Attack("missing state", 400, "not valid any more", query=lambda p: {"code": "c"}),
    Attack(
        "wrong state", 400, "not valid any more", query=lambda p: {"state": "x" * 43, "code": "c"}
    ),
    Attack("missing code", 400, "sent no code", query=lambda p: {"state": p["state"]}),
    Attack(
        "error=access_denied",
        403,
        "You cancelled signing in",
        query=lambda p: {"state": p["state"], "error": "access_denied"},
    ),
    Attack(
        "other provider error",
        400,
        "could not complete the sign-in",
        query=lambda p: {"state": p["state"], "error": "server_error\r\nforged log line"},
    ),
    Attack(
        "token endpoint 400 invalid_grant",
        400,
        "refused this sign-in",
        provider=_token_reply(httpx.Response(400, json={"error": "invalid_grant"})),
    ),
    Attack(
        "token endpoint 401 without JSON",
        400,
        "refused this sign-in",
        provider=_token_reply(httpx.Response(401, text="Unauthorized")),
    ),
    Attack(
        "token endpoint 500",
        502,
        "not answering properly",
        provider=_token_reply(httpx.Response(500, text="<html>oops</html>")),
    ),
    Attack(
        "token endpoint timeout",
        504,
        "took too long",
        provider=_token_reply(httpx.ReadTimeout),
    ),
    Attack(
        "token endpoint unreachable",
        502,
        "not answering properly",
        provider=_token_reply(httpx.ConnectError),
    ),
    Attack(
        "token response without id_token",
        502,
        "not answering properly",
        provider=_token_reply(
            httpx.Response(200, json={"access_token": "a", "token_type": "Bearer"})
        ),
    ),
    Attack(
        "bad signature (other key, same kid)",
        401,
        "could not be verified",
        provider=_id_token(lambda p: p.sign(p.make_claims(), other_key(KID))),
    ),
    Attack(
        "unknown kid",
        401,
        "could not be verified",
        provider=_id_token(lambda p: p.sign(p.make_claims(), other_key("rotated-away"))),
    ),
    Attack(
        "alg none",
        401,
        "could not be verified",
        provider=_id_token(lambda p: unsigned_token({"alg": "none", "kid": KID}, p.make_claims())),
    ),
    Attack(
        "HS256 signed with the public key",
        401,
        "could not be verified",
        provider=_id_token(lambda p: hs256_with_public_key(p.make_claims())),
    ),
    Attack(
        "garbage id_token",
        401,
        "could not be verified",
        provider=_id_token(lambda p: "not.a.jwt"),
    ),
    Attack("wrong iss", 401, "could not be verified", provider=_claims(iss="https://evil.example")),
    Attack("wrong aud", 401, "could not be verified", provider=_claims(aud="someone-else")),
    Attack(
        "several aud without azp",
        401,
        "could not be verified",
        provider=_claims(aud=["verdict-test.apps.googleusercontent.com", "x"], azp=None),
    ),
    Attack("azp of another client", 401, "could not be verified", provider=_claims(azp="other")),
    Attack(
        "expired",
        401,
        "could not be verified",
        provider=_claims(iat=FromNow(-7200), exp=FromNow(-3600)),
    ),
    Attack(
        "iat in the future",
        401,
        "could not be verified",
        provider=_claims(iat=FromNow(3600), exp=FromNow(7200)),
    ),
    Attack("missing exp", 401, "could not be verified", provider=_claims(exp=None)),
    Attack("missing nonce", 401, "could not be verified", provider=_claims(nonce=None)),
    Attack("wrong nonce", 401, "could not be verified", provider=_claims(nonce="n" * 43)),
    Attack("missing sub", 401, "could not be verified", provider=_claims(sub=None)),
    Attack(
        "email_verified false",
        403,
        "not verified",
        provider=_claims(email_verified=False),
    ),
    Attack("email_verified missing", 403, "not verified", provider=_claims(email_verified=None)),
    Attack(
        "email_verified the string 'false'",
        403,
        "not verified",
        provider=_claims(email_verified="false"),
    ),
    Attack(
        "iat beyond the clock-skew leeway",
        401,
        "could not be verified",
        provider=_claims(iat=FromNow(120)),
    ),
    Attack("no email", 403, "did not share an e-mail", provider=_claims(email=None)),
    Attack(
        "hd not allowed",
        403,
        "only accepts accounts of school.example",
        provider=_claims(hd="evil.example", email="mallory@evil.example"),
        settings={"allowed_domains": frozenset({"school.example"})},
    ),
    Attack(
        "Google consumer account (no hd) with a school address",
        403,
        "only accepts accounts of school.example",
        provider=_claims(hd=None),
        settings={"allowed_domains": frozenset({"school.example"})},
    ),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
async def test_attack_is_refused_without_a_session(
    attack: Attack, make_app: AppFactory, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_app(**attack.settings) as app:
        client = app.test_client()
        params = await begin_sign_in(client)
        provider.nonce = params["nonce"]
        attack.provider(provider)

        response = await client.get("/login/callback", query_string=attack.query(params))

        page = await response.get_data(as_text=True)
        assert response.status_code == attack.status, page
        assert attack.says in page
        assert auth_cookie(response) is None
        assert await count_sessions(app) == 0
        assert "Sign in again" in page
        failures = [r.getMessage() for r in caplog.records if r.name == "service.auth.views"]
        assert len(failures) == 1
        assert failures[0].startswith("sign-in failed: ")
        assert "\n" not in failures[0]


async def test_unknown_kid_refetches_the_keys_once(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    params = await begin_sign_in(client)
    provider.nonce = params["nonce"]
    provider.id_token = provider.sign(provider.make_claims(), other_key("rotated-away"))
    response = await client.get("/login/callback", query_string=_valid(params))
    assert response.status_code == 401
    assert provider.jwks.call_count == 2


async def test_replayed_state_is_refused(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    params = await begin_sign_in(client)
    provider.nonce = params["nonce"]
    first = await client.get("/login/callback", query_string=_valid(params))
    assert first.status_code == 302

    replay = await client.get("/login/callback", query_string=_valid(params))

    assert replay.status_code == 400
    assert "not valid any more" in await replay.get_data(as_text=True)
    assert await count_sessions(app) == 1
    assert provider.token.call_count == 1


async def test_state_from_another_browser_is_refused(app: Quart, provider: FakeProvider) -> None:
    victim, attacker = app.test_client(), app.test_client()
    params = await begin_sign_in(attacker)
    provider.nonce = params["nonce"]
    response = await victim.get("/login/callback", query_string=_valid(params))
    assert response.status_code == 400
    assert await count_sessions(app) == 0
    assert provider.token.call_count == 0


async def test_expired_flow_is_refused(
    app: Quart, client: QuartClient, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = await begin_sign_in(client)
    provider.nonce = params["nonce"]
    later = int(time.time()) + 601
    monkeypatch.setattr("service.auth.flows._now", lambda: later)
    response = await client.get("/login/callback", query_string=_valid(params))
    assert response.status_code == 400
    assert await count_sessions(app) == 0


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\tevil",
        "///evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_next_outside_the_site_goes_home(
    client: QuartClient, provider: FakeProvider, target: str
) -> None:
    response = await sign_in(client, provider, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


async def test_csrf_token_planted_before_sign_in_is_replaced(
    client: QuartClient, provider: FakeProvider
) -> None:
    planted = "attacker-knows-this-token"
    async with client.session_transaction() as browser_session:
        browser_session["csrf_token"] = planted
    await sign_in(client, provider)
    token = await csrf_token(client)
    assert token
    assert token != planted
    response = await client.post("/logout", form={"csrf_token": planted})
    assert response.status_code == 400


async def test_only_the_newest_pending_sign_ins_are_kept(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    flows = [await begin_sign_in(client, f"/tab{i}") for i in range(5)]
    provider.nonce = flows[0]["nonce"]
    oldest = await client.get("/login/callback", query_string=_valid(flows[0]))
    assert oldest.status_code == 400
    provider.nonce = flows[1]["nonce"]
    kept = await client.get("/login/callback", query_string=_valid(flows[1]))
    assert kept.headers["Location"] == "/tab1"
    assert await count_sessions(app) == 1
