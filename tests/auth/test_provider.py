"""The provider client: discovery and key caching, refetching, and provider failures."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import httpx
import pytest
import respx
from joserfc.jwk import KeySet

from service.auth.provider import (
    DISCOVERY_TTL_SECONDS,
    JWKS_TTL_SECONDS,
    AsyncOAuth2Client,
    OIDCProvider,
)
from tests.factories import AppFactory, count_sessions
from tests.fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    GOOGLE,
    KID,
    FakeProvider,
    begin_sign_in,
    other_key,
    provider_key,
    sign_in,
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def started(provider: FakeProvider) -> Any:
    """Yield a started OIDCProvider pointed at the fake Google, with a hand-moved clock."""
    clock = Clock()
    client = OIDCProvider(
        issuer=GOOGLE,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri="http://verdict.test/login/callback",
        timeout=2.0,
        clock=clock,
    )
    await client.start()
    yield client, clock
    await client.close()


async def test_discovery_is_cached_until_its_ttl(started: Any, provider: FakeProvider) -> None:
    client, clock = started
    await client.metadata()
    await client.metadata()
    assert provider.discovery.call_count == 1
    clock.now += DISCOVERY_TTL_SECONDS + 1
    metadata = await client.metadata()
    assert provider.discovery.call_count == 2
    assert metadata.token_endpoint == "https://oauth2.googleapis.com/token"


async def test_keys_are_cached_and_refetched_after_their_ttl(
    started: Any, provider: FakeProvider
) -> None:
    client, clock = started
    assert (await client.signing_key(KID)).kid == KID
    assert (await client.signing_key(KID)).kid == KID
    assert provider.jwks.call_count == 1
    clock.now += JWKS_TTL_SECONDS + 1
    await client.signing_key(KID)
    assert provider.jwks.call_count == 2


async def test_a_rotated_key_is_found_by_one_refetch(started: Any, provider: FakeProvider) -> None:
    client, _clock = started
    await client.signing_key(KID)
    rotated = other_key("rotated-in")
    provider.jwks.mock(
        return_value=httpx.Response(
            200, json=KeySet([provider_key(), rotated]).as_dict(private=False)
        )
    )
    assert (await client.signing_key("rotated-in")).kid == "rotated-in"
    assert provider.jwks.call_count == 2


async def test_provider_must_be_started(provider: FakeProvider) -> None:
    client = OIDCProvider(
        issuer=GOOGLE, client_id="x", client_secret="y", redirect_uri="http://t/cb", timeout=1
    )
    with pytest.raises(RuntimeError, match="not started"):
        await client.metadata()
    with pytest.raises(RuntimeError, match="not started"):
        client._client()


def _discovery(response: httpx.Response | type[Exception]) -> Any:
    def setup(provider: FakeProvider) -> None:
        if isinstance(response, httpx.Response):
            provider.discovery.mock(return_value=response)
        else:
            provider.discovery.mock(side_effect=response)

    return setup


def _jwks(response: httpx.Response) -> Any:
    def setup(provider: FakeProvider) -> None:
        provider.jwks.mock(return_value=response)

    return setup


LOGIN_FAILURES = [
    ("discovery 500", _discovery(httpx.Response(500)), 502),
    ("discovery timeout", _discovery(httpx.ConnectTimeout), 504),
    ("discovery not JSON", _discovery(httpx.Response(200, text="<html>")), 502),
    ("discovery a JSON list", _discovery(httpx.Response(200, json=[1])), 502),
    ("discovery incomplete", _discovery(httpx.Response(200, json={"issuer": GOOGLE})), 502),
    (
        "discovery of another issuer",
        _discovery(
            httpx.Response(
                200,
                json={
                    "issuer": "https://evil.example",
                    "authorization_endpoint": "https://evil.example/auth",
                    "token_endpoint": "https://evil.example/token",
                    "jwks_uri": "https://evil.example/jwks",
                },
            )
        ),
        502,
    ),
]


@pytest.mark.parametrize(
    ("setup", "status"),
    [(setup, status) for _name, setup, status in LOGIN_FAILURES],
    ids=[name for name, _setup, _status in LOGIN_FAILURES],
)
async def test_login_shows_a_friendly_page_when_discovery_fails(
    make_app: AppFactory, provider: FakeProvider, setup: Any, status: int
) -> None:
    setup(provider)
    async with make_app() as app:
        response = await app.test_client().get("/login")
        assert response.status_code == status
        assert "Sign in again" in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    "jwks",
    [
        httpx.Response(503),
        httpx.Response(200, json={"keys": []}),
        httpx.Response(200, json={"keys": "nope"}),
    ],
    ids=["jwks 503", "jwks empty", "jwks malformed"],
)
async def test_callback_fails_cleanly_when_keys_are_unusable(
    make_app: AppFactory, provider: FakeProvider, jwks: httpx.Response
) -> None:
    provider.jwks.mock(return_value=jwks)
    async with make_app() as app:
        response = await sign_in(app.test_client(), provider)
        assert response.status_code == 502
        assert await count_sessions(app) == 0


async def test_sign_in_without_a_client_id_explains_the_setting(
    make_app: AppFactory, provider: FakeProvider
) -> None:
    async with make_app(google_client_id="") as app:
        response = await app.test_client().get("/login")
        assert response.status_code == 503
        assert "GOOGLE_CLIENT_ID" in await response.get_data(as_text=True)
        assert provider.discovery.call_count == 0


async def test_other_issuer_uses_the_email_domain_for_allowed_domains(
    make_app: AppFactory,
) -> None:
    issuer = "https://idp.school.example"
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        fake = FakeProvider(router, issuer=issuer)
        async with make_app(
            oidc_issuer=issuer, allowed_domains=frozenset({"school.example"})
        ) as app:
            client = app.test_client()
            fake.claims = {"hd": None}
            assert (await sign_in(client, fake)).status_code == 302

            other = app.test_client()
            fake.claims = {"hd": None, "email": "eve@elsewhere.example", "sub": "eve"}
            assert (await sign_in(other, fake)).status_code == 403

            fake.claims = {"iss": GOOGLE}
            assert (await sign_in(app.test_client(), fake)).status_code == 401
            assert await count_sessions(app) == 1


async def test_discovery_is_shared_by_sign_ins(
    make_app: AppFactory, provider: FakeProvider
) -> None:
    async with make_app() as app:
        for _ in range(3):
            await begin_sign_in(app.test_client())
        assert provider.discovery.call_count == 1
        assert provider.token.call_count == 0


async def test_a_burst_of_cold_requests_fetches_discovery_and_keys_once(
    started: Any, provider: FakeProvider
) -> None:
    client, _clock = started
    for route in (provider.discovery, provider.jwks):
        reply = route.return_value

        async def slowly(request: httpx.Request, reply: Any = reply) -> httpx.Response:
            await asyncio.sleep(0.05)  # the provider's latency lets the burst pile up
            return reply

        route.mock(side_effect=slowly)
    documents = await asyncio.gather(*(client.metadata() for _ in range(20)))
    keys = await asyncio.gather(*(client.signing_key(KID) for _ in range(20)))
    assert len({id(document) for document in documents}) == 1
    assert {key.kid for key in keys} == {KID}
    assert provider.discovery.call_count == 1
    assert provider.jwks.call_count == 1


def test_authlib_runs_on_httpx_so_respx_sees_its_requests() -> None:
    # oidc-provider-mock pulls in httpx2; Authlib would switch to it and escape respx.
    assert importlib.util.find_spec("httpx2") is None
    assert issubclass(AsyncOAuth2Client, httpx.AsyncClient)
