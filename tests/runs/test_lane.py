"""The run lane's admission: one run at a time per person, and the rate limit's window."""

from __future__ import annotations

import pytest

from service.config import RateLimit, Settings
from service.runs.lane import RunLane
from service.submissions.validation import SubmissionRefused


async def test_the_window_lets_runs_in_again_as_it_moves() -> None:
    now = [100.0]
    lane = RunLane(Settings(run_rate_limit=RateLimit(2, 60)), lambda: now[0])
    for _ in range(2):
        async with lane.admitted(7):
            pass
    with pytest.raises(SubmissionRefused) as refused:
        async with lane.admitted(7):
            pass
    assert (refused.value.status, refused.value.retry_after) == (429, 60)
    now[0] += 30
    with pytest.raises(SubmissionRefused) as still:
        async with lane.admitted(7):
            pass
    assert still.value.retry_after == 30
    now[0] += 30  # the first run leaves the window
    async with lane.admitted(7):
        pass
    async with lane.admitted(8):  # someone else has a window of their own
        pass
