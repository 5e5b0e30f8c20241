"""The evaluator core loads only itself, the standard library and PyYAML: an allow-list."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPOSITORY / "service" / "evaluator"

#: Top-level modules outside the standard library the core may load: PyYAML, and the runtime
#: modules its compiled extension registers (``cython_runtime``, ``_cython_3_3_1``, ...).
ALLOWED_THIRD_PARTY = frozenset({"yaml", "_yaml", "cython_runtime"})
ALLOWED_THIRD_PARTY_PREFIXES = ("_cython_",)


def evaluator_modules() -> list[str]:
    names = ["service.evaluator"]
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="service.evaluator."):
        names.append(info.name)
    return names


def modules_loaded_by(names: list[str]) -> tuple[list[str], list[str]]:
    """Import ``names`` in a fresh interpreter; return the modules loaded before and by them."""
    script = (
        "import importlib, json, sys\n"
        "before = sorted(sys.modules)\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps([before, sorted(set(sys.modules) - set(before))]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPOSITORY,
    )
    assert completed.returncode == 0, completed.stderr
    before, loaded = json.loads(completed.stdout)
    return before, loaded


def is_allowed(name: str) -> bool:
    top = name.partition(".")[0]
    if top == "service":
        return name in ("service", "service.evaluator") or name.startswith("service.evaluator.")
    return (
        top in sys.stdlib_module_names
        or top in ALLOWED_THIRD_PARTY
        or top.startswith(ALLOWED_THIRD_PARTY_PREFIXES)
    )


def test_every_evaluator_module_is_found() -> None:
    names = evaluator_modules()

    for expected in (
        "archive",
        "checkers",
        "runner",
        "languages",
        "package",
        "programs",
        "validators",
        "verify",
        "sandbox",
    ):
        assert f"service.evaluator.{expected}" in names


def test_the_public_face_loads_nothing_outside_the_allow_list() -> None:
    before, loaded = modules_loaded_by(["service.evaluator"])

    assert not any(name.startswith("service") for name in before)
    assert [name for name in loaded if not is_allowed(name)] == []
    assert "service.evaluator.runner" in loaded


def test_every_evaluator_module_loads_nothing_outside_the_allow_list() -> None:
    _, loaded = modules_loaded_by(evaluator_modules())

    assert [name for name in loaded if not is_allowed(name)] == []
    assert set(evaluator_modules()) <= set(loaded)
