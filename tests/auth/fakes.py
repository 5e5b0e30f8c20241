"""A fake OpenID provider for respx: discovery, keys and token endpoint, with a local RSA key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

GOOGLE = "https://accounts.google.com"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
CLIENT_ID = "verdict-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"
KID = "test-key-1"


@cache
def provider_key() -> RSAKey:
    """Return the RSA key the fake provider signs with (made once per test run)."""
    return RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})


@cache
def other_key(kid: str) -> RSAKey:
    """Return an RSA key the provider does not publish."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def b64url(data: bytes) -> str:
    """Encode base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """Assemble a compact JWT by hand (for algorithms no library will sign with)."""
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return head + "." + b64url(signature)


def hs256_with_public_key(claims: dict[str, Any]) -> str:
    """Forge a token 'signed' with HMAC keyed by the provider's public key (alg confusion)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    public_pem = provider_key().as_pem(private=False)
    signature = hmac.new(public_pem, head.encode(), hashlib.sha256).digest()
    return head + "." + b64url(signature)


def s256(verifier: str) -> str:
    """Return the PKCE S256 challenge of ``verifier``."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass
class FakeProvider:
    """Google as seen by the app, served by respx; tests shape the next ID token."""

    router: respx.MockRouter
    issuer: str = GOOGLE
    client_id: str = CLIENT_ID
    nonce: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    id_token: str | None = None
    signing_key: RSAKey | None = None

    def __post_init__(self) -> None:
        self.discovery = self.router.get(self.issuer + "/.well-known/openid-configuration")
        self.discovery.mock(
            return_value=httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": AUTHORIZE_URL,
                    "token_endpoint": TOKEN_URL,
                    "jwks_uri": JWKS_URL,
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        )
        self.jwks = self.router.get(JWKS_URL)
        self.jwks.mock(
            return_value=httpx.Response(200, json=KeySet([provider_key()]).as_dict(private=False))
        )
        self.token = self.router.post(TOKEN_URL)
        self.token.mock(side_effect=self._token_response)

    def default_claims(self) -> dict[str, Any]:
        """Return the claims of a valid ID token for the current sign-in."""
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": "110169484474386276334",
            "email": "ada@school.example",
            "email_verified": True,
            "name": "Ada Lovelace",
            "picture": "https://lh3.googleusercontent.com/a/ada",
            "hd": "school.example",
            "iat": now,
            "exp": now + 3600,
            "nonce": self.nonce,
        }

    def make_claims(self) -> dict[str, Any]:
        """Return the default claims with the test's changes (a value of None drops a claim)."""
        claims = self.default_claims()
        claims.update(self.claims)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """Sign ``claims`` as an RS256 ID token."""
        key = key or self.signing_key or provider_key()
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])

    def _token_response(self, request: httpx.Request) -> httpx.Response:
        id_token = self.id_token or self.sign(self.make_claims())
        return httpx.Response(
            200,
            json={
                "access_token": "ya29.test-access-token",
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid email profile",
                "id_token": id_token,
            },
        )

    @staticmethod
    def form(request: httpx.Request) -> dict[str, str]:
        """Return the form fields of a token request."""
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
