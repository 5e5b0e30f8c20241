"""Where to send the browser after sign-in: only ever a path on this site."""

from __future__ import annotations

DEFAULT_TARGET = "/"
MAX_TARGET_LENGTH = 2048


def safe_next(target: str | None) -> str:
    """Return ``target`` if it is a local absolute path, else ``/``.

    Browsers treat ``//host``, ``/\\host`` and paths with tabs or newlines stripped out as
    other sites, so anything but a plain ``/path?query`` is refused.
    """
    if not target or len(target) > MAX_TARGET_LENGTH:
        return DEFAULT_TARGET
    if not target.startswith("/") or target.startswith("//"):
        return DEFAULT_TARGET
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return DEFAULT_TARGET
    return target
