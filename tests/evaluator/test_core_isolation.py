"""The evaluator core imports nothing from the web or database layers."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import service.evaluator

FORBIDDEN_PREFIXES = (
    "quart",
    "quart_auth",
    "quart_schema",
    "quart_rate_limiter",
    "sqlalchemy",
    "alembic",
    "hypercorn",
    "authlib",
    "httpx",
    "procrastinate",
    "psycopg",
    "aiosqlite",
    "service.app",
    "service.auth",
    "service.commands",
    "service.cli",
    "service.db",
    "service.web",
)


def evaluator_modules() -> list[str]:
    package_dir = Path(service.evaluator.__file__).parent
    names = ["service.evaluator"]
    for info in pkgutil.walk_packages([str(package_dir)], prefix="service.evaluator."):
        names.append(info.name)
    return names


def test_every_evaluator_module_is_found() -> None:
    names = evaluator_modules()

    for expected in ("runner", "languages", "programs", "validators", "verify", "sandbox"):
        assert f"service.evaluator.{expected}" in names


def test_importing_the_evaluator_pulls_in_no_web_or_database_module() -> None:
    names = evaluator_modules()
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert completed.returncode == 0, completed.stderr
    loaded = json.loads(completed.stdout)
    leaked = [
        name
        for name in loaded
        if any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN_PREFIXES)
    ]
    assert leaked == []
    assert "service.evaluator.runner" in loaded
