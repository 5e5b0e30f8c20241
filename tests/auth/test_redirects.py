"""Which ``next`` targets are honoured after sign-in: local paths only."""

from __future__ import annotations

import pytest

from service.auth.redirects import safe_next


@pytest.mark.parametrize(
    "target",
    ["/", "/problems", "/problems/hello?tab=2#samples", "/submissions/7", "/a//b", "/caf%C3%A9"],
)
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "https://evil.example",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\x00",
        "/\x7f",
        "javascript:alert(1)",
        "evil.example/path",
        "problems",
        "/" + "a" * 2048,
    ],
)
def test_anything_else_goes_home(target: str | None) -> None:
    assert safe_next(target) == "/"
