"""Sign-ins in progress, kept in the browser's signed Quart session until the callback.

Each pending flow is stored under its ``state`` and popped at the callback, so a state works
once. A few flows may be pending at once (several tabs); each expires after ten minutes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from quart import session

FLOWS_KEY = "oidc_flows"
MAX_PENDING_FLOWS = 4
FLOW_MAX_AGE_SECONDS = 600
STATE_BYTES = 32
VERIFIER_BYTES = 48


@dataclass(frozen=True)
class PendingFlow:
    """What the callback needs from the sign-in this browser started."""

    state: str
    nonce: str
    code_verifier: str
    next: str


def start_flow(next_path: str) -> PendingFlow:
    """Return a new flow with random state, nonce and PKCE verifier, remembered in the session."""
    flow = PendingFlow(
        state=secrets.token_urlsafe(STATE_BYTES),
        nonce=secrets.token_urlsafe(STATE_BYTES),
        code_verifier=secrets.token_urlsafe(VERIFIER_BYTES),
        next=next_path,
    )
    now = _now()
    live = [
        (key, value)
        for key, value in _stored_flows().items()
        if now - int(value.get("at", 0)) < FLOW_MAX_AGE_SECONDS
    ]
    live.sort(key=lambda item: int(item[1].get("at", 0)))
    stored = dict(live[-(MAX_PENDING_FLOWS - 1) :])
    stored[flow.state] = {
        "nonce": flow.nonce,
        "verifier": flow.code_verifier,
        "next": flow.next,
        "at": now,
    }
    session[FLOWS_KEY] = stored
    return flow


def pop_flow(state: str | None) -> PendingFlow | None:
    """Remove and return the live flow started with ``state``; None if unknown or expired."""
    flows = _stored_flows()
    if not state or state not in flows:
        return None
    value = flows.pop(state)
    session[FLOWS_KEY] = flows
    if _now() - int(value.get("at", 0)) >= FLOW_MAX_AGE_SECONDS:
        return None
    return PendingFlow(
        state=state,
        nonce=str(value["nonce"]),
        code_verifier=str(value["verifier"]),
        next=str(value["next"]),
    )


def _now() -> int:
    return int(time.time())


def _stored_flows() -> dict[str, dict[str, Any]]:
    flows = session.get(FLOWS_KEY)
    return dict(flows) if isinstance(flows, dict) else {}
