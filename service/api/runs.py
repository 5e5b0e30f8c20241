"""The API's runs: run the sources once on a sample or typed input, without submitting."""

from __future__ import annotations

from quart import current_app
from quart_auth import login_required
from quart_schema import validate_request, validate_response

from service.api.models import RunIn, RunOut
from service.api.views import bp, errors
from service.auth.current import Surface, require_account
from service.runs.service import run_code


@bp.post("/runs")
@login_required
@errors(400, 401, 404, 413, 422, 429, 503)
@validate_request(RunIn)
@validate_response(RunOut)
async def create_run(data: RunIn) -> RunOut:
    """Run a program once on ``input`` or a sample, in the submission's sandbox and limits."""
    account = await require_account(Surface.API)
    result = await run_code(
        current_app,
        account,
        slug=data.problem,
        language=data.language,
        files=data.encoded_files(),
        given=data.input,
        sample=data.sample,
    )
    return RunOut.model_validate(result)
