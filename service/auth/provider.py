"""The OpenID Connect provider (Google by default) behind one small class.

Discovery and the signing keys are fetched over httpx with timeouts and cached; the code is
exchanged with Authlib's AsyncOAuth2Client (PKCE S256, HTTP Basic client authentication).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import Key, KeySet

from service.auth.errors import (
    CodeRejected,
    InvalidIDToken,
    NotConfigured,
    ProviderTimeout,
    ProviderUnavailable,
)

with warnings.catch_warnings():
    # Authlib warns when it falls back from httpx2 to httpx; httpx is our choice (respx
    # intercepts only httpx, and the two must not both be installed, see STACK.md).
    # authlib.deprecate installs an "always" filter when imported: import it first, then ignore.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
SCOPE = "openid email profile"
DISCOVERY_TTL_SECONDS = 3600.0
JWKS_TTL_SECONDS = 3600.0
#: Connections to the provider at once. httpcore's pool scans its queued requests against
#: every connection on each change (quadratic): with its default of 100, a burst of 200
#: callbacks cost about 12 ms of CPU each in that scan alone (bench/compare.py). A request
#: that never queues is cheap; past this many, sign-ins wait for a free connection.
PROVIDER_MAX_CONNECTIONS = 1000
PROVIDER_KEEPALIVE_CONNECTIONS = 32


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints a provider announces in its discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OIDCProvider:
    """One OIDC provider: discovery, signing keys and the authorization code exchange."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.timeout = timeout
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._oauth: AsyncOAuth2Client | None = None
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._keys_lock = asyncio.Lock()
        self._discovery_lock = asyncio.Lock()

    @property
    def discovery_url(self) -> str:
        """Return where the provider's discovery document lives."""
        return self.issuer + DISCOVERY_PATH

    async def start(self) -> None:
        """Open the HTTP connection pools (once per serving app)."""
        limits = httpx.Limits(
            max_connections=PROVIDER_MAX_CONNECTIONS,
            max_keepalive_connections=PROVIDER_KEEPALIVE_CONNECTIONS,
        )
        self._http = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, limits=limits)
        # One OAuth client for the app's lifetime: each exchange passes its own code and
        # verifier, and the token is returned directly, so concurrent callbacks do not mix.
        self._oauth = AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
            follow_redirects=False,
            limits=limits,
        )

    async def close(self) -> None:
        """Close the HTTP connection pools."""
        for client in (self._http, self._oauth):
            if client is not None:
                await client.aclose()
        self._http = None
        self._oauth = None

    async def metadata(self) -> ProviderMetadata:
        """Return the discovery document, fetched at most once per TTL."""
        if not self.client_id:
            raise NotConfigured("GOOGLE_CLIENT_ID is not set")
        cached = self._metadata
        if cached is not None and self._clock() - cached[0] < DISCOVERY_TTL_SECONDS:
            return cached[1]
        async with self._discovery_lock:  # a burst of cold requests fetches it once
            cached = self._metadata
            if cached is not None and self._clock() - cached[0] < DISCOVERY_TTL_SECONDS:
                return cached[1]
            return await self._discover()

    async def _discover(self) -> ProviderMetadata:
        document = await self._get_json(self.discovery_url, "discovery document")
        try:
            metadata = ProviderMetadata(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
            )
        except KeyError as exc:
            raise ProviderUnavailable(f"discovery document lacks {exc.args[0]!r}") from exc
        if metadata.issuer.rstrip("/") != self.issuer:
            raise ProviderUnavailable(
                f"discovery names issuer {metadata.issuer!r}, expected {self.issuer!r} "
                "(check OIDC_ISSUER)"
            )
        self._metadata = (self._clock(), metadata)
        return metadata

    async def authorization_url(
        self, *, state: str, nonce: str, code_verifier: str, domain_hint: str | None = None
    ) -> str:
        """Return the provider URL that starts a sign-in (code flow, PKCE S256).

        ``domain_hint`` becomes Google's ``hd`` parameter, which only filters the account
        chooser: the domain is enforced on the ID token, never on this request.
        """
        metadata = await self.metadata()
        extra = {"hd": domain_hint} if domain_hint else {}
        url, _state = self._client().create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
            prompt="select_account",
            **extra,
        )
        return str(url)

    async def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        """Trade an authorization code for the provider's tokens."""
        metadata = await self.metadata()
        try:
            token = await self._client().fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=self.redirect_uri,
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("token endpoint timed out") from exc
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if 400 <= status < 500:
                raise CodeRejected(f"token endpoint answered HTTP {status}") from exc
            raise ProviderUnavailable(f"token endpoint answered HTTP {status}") from exc
        except OAuthError as exc:
            raise CodeRejected(f"token endpoint refused the code: {exc.error}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"token endpoint failed: {exc.__class__.__name__}") from exc
        return dict(token)

    async def signing_key(self, kid: str | None) -> Key:
        """Return the published key ``kid``, refetching the key set once if it is unknown."""
        keys = await self._key_set(stale=None)
        try:
            return keys.get_by_kid(kid)
        except InvalidKeyIdError:
            log.info("unknown signing key %r: refetching the provider's keys", kid)
        keys = await self._key_set(stale=keys)
        try:
            return keys.get_by_kid(kid)
        except InvalidKeyIdError as exc:
            raise InvalidIDToken(f"ID token signed with unknown key {kid!r}") from exc

    async def _key_set(self, stale: KeySet | None) -> KeySet:
        # ``stale`` is the set a caller found wanting: refetch unless another task already did.
        async with self._keys_lock:
            cached = self._keys
            if cached is not None:
                fetched_at, keys = cached
                fresh = self._clock() - fetched_at < JWKS_TTL_SECONDS
                if fresh and keys is not stale:
                    return keys
            metadata = await self.metadata()
            document = await self._get_json(metadata.jwks_uri, "signing keys")
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise ProviderUnavailable("the provider's signing keys are unusable") from exc
            self._keys = (self._clock(), keys)
            return keys

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http_client().get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"{what} timed out ({url})") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"{what} failed ({url}): {exc.__class__.__name__}") from exc
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{what} is not a JSON object ({url})")
        return document

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the OIDC provider is not started (is the app serving?)")
        return self._http

    def _client(self) -> AsyncOAuth2Client:
        if self._oauth is None:
            raise RuntimeError("the OIDC provider is not started (is the app serving?)")
        return self._oauth
