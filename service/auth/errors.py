"""Why a sign-in failed, each with the HTTP status and the message the person sees.

The views translate these into the friendly sign-in error page in one place::

    SignInError
     ├── FlowError           400  state missing, unknown or already used; no code; provider error
     │    └── AccessDenied   403  the person cancelled at the provider (error=access_denied)
     ├── ProviderUnavailable 502  discovery, keys or token endpoint failed or answered nonsense
     │    ├── ProviderTimeout 504 the provider did not answer in time
     │    └── NotConfigured  503  no OAuth client id is configured
     ├── CodeRejected        400  the token endpoint refused the code (expired or reused)
     ├── InvalidIDToken      401  signature, algorithm or a claim of the ID token is wrong
     └── NotPermitted        403  e-mail unverified, domain not allowed, or account disabled
"""

from __future__ import annotations


class SignInError(Exception):
    """A sign-in attempt that must not create a session."""

    status = 400
    title = "Sign-in failed"
    message = "Something went wrong while signing you in. Please try again."

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if message is not None:
            self.message = message


class FlowError(SignInError):
    """The callback does not belong to a sign-in this browser started, or lacks its code."""

    message = (
        "This sign-in link is not valid any more (it was already used, has expired, or was "
        "started in another browser). Please start signing in again."
    )


class AccessDenied(FlowError):
    """The person declined at the provider."""

    status = 403
    title = "Sign-in cancelled"
    message = "You cancelled signing in. Sign in again whenever you are ready."


class ProviderUnavailable(SignInError):
    """The identity provider failed or answered something unusable."""

    status = 502
    title = "Sign-in provider unavailable"
    message = "The sign-in provider is not answering properly right now. Please try again shortly."


class ProviderTimeout(ProviderUnavailable):
    """The identity provider did not answer within the configured timeout."""

    status = 504
    message = "The sign-in provider took too long to answer. Please try again shortly."


class NotConfigured(ProviderUnavailable):
    """No OAuth client is configured on this server."""

    status = 503
    title = "Sign-in is not set up"
    message = (
        "Sign-in is not set up on this server yet: the administrator must set "
        "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET."
    )


class CodeRejected(SignInError):
    """The token endpoint refused the authorization code."""

    message = "The sign-in provider refused this sign-in (it may have expired). Please try again."


class InvalidIDToken(SignInError):
    """The ID token failed validation."""

    status = 401
    message = "The sign-in provider's answer could not be verified. Please try again."


class NotPermitted(SignInError):
    """The identity is genuine but may not use this site."""

    status = 403
    title = "Sign-in not allowed"
