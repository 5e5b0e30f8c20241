"""What sign-in keeps on the app: the settings it reads and the provider client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from quart import Quart, current_app

from service.auth.provider import OIDCProvider
from service.config import Settings

EXTENSION_KEY = "verdict.auth"


@dataclass(frozen=True)
class AuthState:
    """Sign-in's share of one app: settings and the provider (pools opened while serving)."""

    settings: Settings
    provider: OIDCProvider

    @property
    def session_lifetime(self) -> timedelta:
        """Return how long a login session lasts."""
        return timedelta(days=self.settings.session_lifetime_days)


def get_auth_state(app: Quart | None = None) -> AuthState:
    """Return the AuthState of ``app`` (default: the current app)."""
    state: AuthState = (app or current_app).extensions[EXTENSION_KEY]
    return state
