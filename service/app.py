"""The application factory: settings, database, sign-in, security and blueprints wired once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import Quart

from service import db
from service.config import Settings, load_settings

SETTINGS_KEY = "VERDICT_SETTINGS"


def create_app(overrides: Mapping[str, Any] | None = None) -> Quart:
    """Build a Verdict app from the environment, with ``overrides`` (Settings field names)."""
    settings = load_settings(overrides=overrides)
    app = Quart(__name__)
    app.config[SETTINGS_KEY] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["TESTING"] = settings.env.value == "testing"
    db.init_app(app, settings.database_url)
    return app


def get_settings(app: Quart) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = app.config[SETTINGS_KEY]
    return settings
