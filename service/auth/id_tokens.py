"""Validate an OpenID Connect ID token: RS256 signature from the provider's keys, then claims.

Domain rule (``ALLOWED_DOMAINS``): when the setting is empty every verified account may sign in.
Otherwise Google tokens must carry an ``hd`` (hosted domain) claim in the list: a Google account
can have a verified address at a school's domain without being managed by that school, so the
e-mail's domain proves nothing for Google. Other issuers have no standard ``hd`` claim: their
token's ``hd`` is used when present, else the domain of the verified e-mail. The rule is applied
to the token only, never to a request parameter (the ``hd`` request parameter is a hint).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from joserfc import jws, jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key

from service.auth.errors import InvalidIDToken, NotPermitted

GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_ISSUERS = frozenset({GOOGLE_ISSUER, "accounts.google.com"})
ALGORITHMS = ("RS256",)
LEEWAY_SECONDS = 60
NAME_MAX = 255
PICTURE_MAX = 1024
EMAIL_MAX = 320


class SigningKeys(Protocol):
    """Where the validator gets the provider's public key for a ``kid``."""

    async def signing_key(self, kid: str | None) -> Key:
        """Return the key published under ``kid``, or raise InvalidIDToken."""
        ...


@dataclass(frozen=True)
class Identity:
    """The verified facts about the person an ID token describes."""

    issuer: str
    sub: str
    email: str
    name: str
    picture: str
    hosted_domain: str | None


def accepted_issuers(issuer: str) -> frozenset[str]:
    """Return the ``iss`` values accepted for the configured issuer."""
    if issuer.rstrip("/") in GOOGLE_ISSUERS:
        return GOOGLE_ISSUERS
    return frozenset({issuer.rstrip("/")})


def is_google(issuer: str) -> bool:
    """Return whether ``issuer`` is Google's."""
    return issuer.rstrip("/") in GOOGLE_ISSUERS


async def validate_id_token(
    id_token: str,
    *,
    keys: SigningKeys,
    issuer: str,
    client_id: str,
    nonce: str,
    allowed_domains: frozenset[str],
) -> Identity:
    """Verify ``id_token`` and return the identity it vouches for, or raise a SignInError."""
    try:
        header = jws.extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidIDToken("malformed ID token") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidIDToken(f"ID token algorithm {alg!r} is not accepted")
    kid = header.get("kid")
    key = await keys.signing_key(kid if isinstance(kid, str) else None)
    try:
        claims = jwt.decode(id_token, key, algorithms=list(ALGORITHMS)).claims
    except (JoseError, ValueError) as exc:
        raise InvalidIDToken(f"ID token signature rejected: {exc.__class__.__name__}") from exc

    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "values": sorted(accepted_issuers(issuer))},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise InvalidIDToken("ID token expired") from exc
    except MissingClaimError as exc:
        raise InvalidIDToken(f"ID token lacks claim(s) {exc.description}") from exc
    except ClaimError as exc:
        raise InvalidIDToken(f"ID token claim rejected: {exc.description}") from exc
    _check_audience(claims, client_id)
    if not isinstance(claims["nonce"], str) or not hmac.compare_digest(
        claims["nonce"].encode(), nonce.encode()
    ):
        raise InvalidIDToken("ID token nonce does not match this sign-in")
    return _identity(claims, allowed_domains)


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    # OIDC Core 3.1.3.7: several audiences need an authorized party, which must be us.
    aud = claims["aud"]
    azp = claims.get("azp")
    if isinstance(aud, list) and len(aud) > 1 and azp is None:
        raise InvalidIDToken("ID token has several audiences but no azp")
    if azp is not None and azp != client_id:
        raise InvalidIDToken("ID token was issued to another client (azp)")


def _identity(claims: Mapping[str, Any], allowed_domains: frozenset[str]) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > EMAIL_MAX:
        raise NotPermitted(
            "ID token has no e-mail address",
            "Your account did not share an e-mail address. Allow access to your e-mail and retry.",
        )
    if claims.get("email_verified") not in (True, "true"):
        raise NotPermitted(
            "e-mail address not verified",
            "Your e-mail address is not verified by the sign-in provider. Verify it and retry.",
        )
    hosted = claims.get("hd")
    hosted_domain = hosted.lower() if isinstance(hosted, str) and hosted else None
    if allowed_domains:
        if is_google(str(claims["iss"])):
            domain = hosted_domain
        else:
            domain = hosted_domain or email.rsplit("@", 1)[1].lower()
        if domain not in allowed_domains:
            raise NotPermitted(
                f"domain {domain!r} not allowed",
                "This site only accepts accounts of "
                + ", ".join(sorted(allowed_domains))
                + ". Sign in with such an account.",
            )
    issuer = str(claims["iss"])
    return Identity(
        issuer=GOOGLE_ISSUER if issuer in GOOGLE_ISSUERS else issuer,
        sub=str(claims["sub"]),
        email=email.strip().lower(),
        name=(_text(claims.get("name")) or email)[:NAME_MAX],
        picture=_picture(claims.get("picture")),
        hosted_domain=hosted_domain,
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _picture(value: object) -> str:
    # Only https images: the URL ends up in an <img src> on every page.
    url = _text(value)
    return url if url.startswith("https://") and len(url) <= PICTURE_MAX else ""
