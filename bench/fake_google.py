"""A slow fake Google for the benchmarks: discovery, signing keys and a token endpoint on loopback.

Run: `python bench/fake_google.py --port P [--delay 0.3] [--client-id ID]`; it prints
``ready <port>`` on stdout once it listens. It speaks just enough HTTP/1.1 (keep-alive,
Content-Length bodies) for httpx and requests, so that both apps under test sign in through it
exactly as they would through Google:

- ``GET /.well-known/openid-configuration`` and ``GET /jwks`` answer at once;
- ``POST /token`` answers after ``--delay`` seconds (Google's token endpoint is the slow,
  remote step of a sign-in) with an RS256 ID token signed by a key made at start.

There is no consent page: the benchmark client reads ``state`` and ``nonce`` from the app's
redirect and makes the code itself with :func:`make_code`, which carries the person's subject
and the nonce so that the token endpoint needs no memory of the flow.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
import urllib.parse
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "bench-key"
TOKEN_LIFETIME = 600


def make_code(sub: str, nonce: str) -> str:
    """Return the authorization code the fake accepts for person ``sub`` and ``nonce``."""
    raw = json.dumps({"sub": sub, "nonce": nonce}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_code(code: str) -> dict[str, str]:
    """Return what :func:`make_code` put into ``code`` (ValueError if it is not one)."""
    padded = code + "=" * (-len(code) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(value, dict) or not {"sub", "nonce"} <= value.keys():
        raise ValueError("not a bench code")
    return {"sub": str(value["sub"]), "nonce": str(value["nonce"])}


class FakeGoogle:
    """The provider's state: its issuer URL, client id, signing key and token delay."""

    def __init__(self, issuer: str, client_id: str, delay: float) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.delay = delay
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        self.tokens_issued = 0

    def discovery(self) -> dict[str, Any]:
        """Return the discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def jwks(self) -> dict[str, Any]:
        """Return the public signing keys."""
        return {"keys": [self.key.as_dict(private=False)]}

    async def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer a code exchange after the configured delay."""
        await asyncio.sleep(self.delay)
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        try:
            flow = read_code(form.get("code", ""))
        except ValueError:
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": flow["sub"],
            "email": f"{flow['sub']}@bench.example",
            "email_verified": True,
            "name": f"Bench {flow['sub']}",
            "nonce": flow["nonce"],
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self.key)
        self.tokens_issued += 1
        return 200, {
            "access_token": f"bench-access-{self.tokens_issued}",
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "id_token": id_token,
            "scope": "openid email profile",
        }

    async def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Route one request."""
        route = urllib.parse.urlsplit(path).path
        if method == "GET" and route == "/.well-known/openid-configuration":
            return 200, self.discovery()
        if method == "GET" and route == "/jwks":
            return 200, self.jwks()
        if method == "POST" and route == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode("latin-1")))
            return await self.token(form)
        return 404, {"error": "not_found"}

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests on one keep-alive connection until the client closes it."""
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, document = await self.answer(method, path, body)
                payload = json.dumps(document).encode()
                reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nCache-Control: no-store\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        finally:
            writer.close()


async def serve(port: int, delay: float, client_id: str) -> None:
    """Listen on 127.0.0.1:``port`` until killed."""
    provider = FakeGoogle(f"http://127.0.0.1:{port}", client_id, delay)
    server = await asyncio.start_server(provider.serve_connection, "127.0.0.1", port, backlog=1024)
    print(f"ready {port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.3, help="token endpoint delay (s)")
    parser.add_argument("--client-id", default="bench-client")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay, args.client_id))


if __name__ == "__main__":
    main()
