"""Test doubles: the fake sandbox and its programs, the fake Google, a closing WebSocket.

The sandbox part runs nothing (no bubblewrap, no compiler): a fake program is a function of
the run's standard input. :func:`judge_on` is the one way to make an app judge on a fake (or
any other) sandbox. The provider part is Google as respx serves it to the app, signing ID
tokens with a local RSA key; :func:`sign_in` runs a whole sign-in through it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import tarfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from quart import Quart
from quart.testing import QuartClient
from quart.testing.connections import TestWebsocketConnection

from service.evaluator import (
    Outcome,
    RunResult,
    RunSpec,
    Sandbox,
    SandboxUnavailable,
    create_sandbox,
)
from service.evaluator.programs import BUILD_ARCHIVE
from service.jobs import LocalDispatcher, get_dispatcher
from service.runs.lane import get_run_lane
from tests.factories import TEST_PUBLIC_URL
from tests.helpers import require_or_skip

# ------------------------------------------------------------------------- fake programs

#: What a fake program does with its standard input: return the run's result.
Behaviour = Callable[[bytes, RunSpec], RunResult]
#: What the hello example's programs must print.
HELLO = b"Hello World!\n"


def exited(stdout: bytes = b"", code: int = 0, cpu_ms: int = 5, stderr: bytes = b"") -> RunResult:
    """Return a run that exited by itself."""
    return RunResult(
        Outcome.EXITED,
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        cpu_ms=cpu_ms,
        wall_ms=cpu_ms + 2,
        memory_kb=1000,
    )


def echo(stdin: bytes, spec: RunSpec) -> RunResult:
    """Behave like ``cat``: print the input back."""
    return exited(stdin)


def hello_program(stdin: bytes, spec: Any) -> Any:
    """Answer every test of the hello example correctly."""
    return exited(HELLO)


def wrong(stdin: bytes, spec: RunSpec) -> RunResult:
    """Print the wrong greeting."""
    return exited(b"Goodbye World!\n")


def says(text: bytes) -> Behaviour:
    """Return a fake program that prints ``text`` whatever its input."""
    return lambda _stdin, _spec: exited(text)


# ----------------------------------------------------------------------------- sandboxes


def is_build(spec: RunSpec) -> bool:
    """Return whether ``spec`` is a compile (it binds the archive of the build's artefacts)."""
    return any(bind.target == BUILD_ARCHIVE for bind in spec.binds)


def compiles_to(*names: str) -> Callable[[RunSpec], RunResult]:
    """Return a fake compiler that succeeds leaving these (empty, executable) artefacts."""

    def compiler(spec: RunSpec) -> RunResult:
        archive = next(bind.source for bind in spec.binds if bind.target == BUILD_ARCHIVE)
        with tarfile.open(archive, "w") as tar:
            for name in names:
                member = tarfile.TarInfo(name)
                member.mode = 0o755
                tar.addfile(member, io.BytesIO(b""))
        return exited()

    return compiler


@dataclass
class FakeSandbox:
    """Runs nothing: compiles succeed (or follow ``compiler``), runs follow ``program``.

    A compile leaves no artefact unless ``compiler`` makes one (:func:`compiles_to`), so a
    language that builds one gets a compile error from the default. ``sandbox_errors`` makes
    that many next runs fail as SANDBOX_ERROR. Every spec is recorded in ``specs``; ``peak``
    is the most runs in flight at once.
    """

    program: Behaviour = echo
    compiler: Callable[[RunSpec], RunResult] = field(default=lambda spec: exited())
    slots: int = 2
    name: str = "fake"
    safe: bool = True
    sandbox_errors: int = 0
    delay: float | Callable[[bytes], float] = 0.0  # seconds, or a function of the input
    specs: list[RunSpec] = field(default_factory=list)
    peak: int = 0
    _running: int = 0
    _slots: asyncio.Semaphore | None = None

    @property
    def runs(self) -> list[RunSpec]:
        """Return the recorded program runs (not compiles)."""
        return [spec for spec in self.specs if not is_build(spec)]

    @property
    def builds(self) -> list[RunSpec]:
        """Return the recorded compiles."""
        return [spec for spec in self.specs if is_build(spec)]

    async def run(self, spec: RunSpec) -> RunResult:
        """Pretend to run ``spec`` in a free slot."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.slots)
        async with self._slots:
            self.specs.append(spec)
            self._running += 1
            self.peak = max(self.peak, self._running)
            try:
                stdin = spec.stdin.read_bytes() if spec.stdin is not None else b""
                await asyncio.sleep(self.delay(stdin) if callable(self.delay) else self.delay)
                if self.sandbox_errors > 0:
                    self.sandbox_errors -= 1
                    return RunResult(Outcome.SANDBOX_ERROR, message="fake failure")
                if is_build(spec):
                    return self.compiler(spec)
                return self.program(stdin, spec)
            finally:
                self._running -= 1

    async def check(self) -> str | None:
        """Report the fake as working."""
        return None


@dataclass
class GatedSandbox(FakeSandbox):
    """A fake sandbox whose runs of sources holding ``marker`` wait until ``gate`` is set.

    Such a judging holds its judge as long as the test likes, as a sleeping program does.
    """

    marker: bytes = b"GATED"
    _gate: asyncio.Event | None = None

    @property
    def gate(self) -> asyncio.Event:
        """Return the event that lets marked runs go on (made in the running loop)."""
        if self._gate is None:
            self._gate = asyncio.Event()
        return self._gate

    async def run(self, spec: RunSpec) -> RunResult:
        """Wait for the gate if the run's sources hold the marker, then run as the fake does."""
        directory = spec.workdir
        if directory is not None and any(
            self.marker in path.read_bytes() for path in directory.iterdir() if path.is_file()
        ):
            await self.gate.wait()
        return await super().run(spec)


@contextlib.asynccontextmanager
async def real_sandbox(slots: int | None = None) -> AsyncIterator[Sandbox]:
    """Open the real sandbox (mode from env SANDBOX, default bwrap) or skip; close it after."""
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        sandbox = create_sandbox(mode=mode, slots=slots)
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
        raise
    try:
        yield sandbox
    finally:
        await sandbox.aclose()


#: The ``fake_app`` fixture: ``fake_app(sandbox=None, configure=None, **settings)``.
FakeApp = Callable[..., Any]


def judge_on(
    sandbox: Sandbox,
    *,
    retry_delay: float | None = None,
    configure: Callable[[LocalDispatcher], None] | None = None,
) -> Callable[[Quart], None]:
    """Return a ``make_app`` setup whose dispatcher judges (and runs run) on ``sandbox``.

    ``retry_delay`` replaces the wait before a retry after an infrastructure failure;
    ``configure(dispatcher)`` runs last, before the app starts serving.
    """

    def setup(app: Quart) -> None:
        dispatcher = get_dispatcher(app)
        dispatcher.sandbox = sandbox
        get_run_lane(app).sandbox = sandbox
        if retry_delay is not None:
            dispatcher.retry_delay = retry_delay
        if configure is not None:
            configure(dispatcher)

    return setup


# ---------------------------------------------------------------------------- WebSockets


class WebsocketClosed(Exception):
    """The server closed the WebSocket with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class ClosingWebsocketConnection(TestWebsocketConnection):
    """Quart's test WebSocket, but a server close is raised by receive() with its code."""

    async def _asgi_send(self, message: Any) -> None:
        """Queue a server close as WebsocketClosed, then pass the message on."""
        if message["type"] == "websocket.close":
            await self._receive_queue.put(WebsocketClosed(message.get("code", 1000)))
        await super()._asgi_send(message)


# --------------------------------------------------------------------- the fake provider

GOOGLE = "https://accounts.google.com"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
CLIENT_ID = "verdict-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"
KID = "test-key-1"
#: Where the provider sends the browser back to a test app.
REDIRECT_URI = TEST_PUBLIC_URL + "/login/callback"


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
        """Route discovery, the key set and the token endpoint to this fake."""
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
        """Answer a token request with the test's ID token (or a freshly signed one)."""
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


async def begin_sign_in(
    client: QuartClient, next_url: str | None = None, **kwargs: Any
) -> dict[str, str]:
    """GET /login and return the query of the provider URL it redirects to."""
    response = await client.get(
        "/login", query_string={"next": next_url} if next_url else None, **kwargs
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def sign_in(
    client: QuartClient, provider: FakeProvider, next_url: str | None = None, **kwargs: Any
) -> Any:
    """Run a whole sign-in through the fake provider and return the callback's response."""
    params = await begin_sign_in(client, next_url, **kwargs)
    provider.nonce = params["nonce"]
    return await client.get(
        "/login/callback",
        query_string={"state": params["state"], "code": "auth-code-1"},
        **kwargs,
    )
