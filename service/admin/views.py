"""The ``admin`` blueprint: people (staff see, admins change), the scoreboard and its CSV."""

from __future__ import annotations

from quart import (
    Blueprint,
    Response,
    ResponseReturnValue,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from service.admin.export import csv_filename, scores_csv
from service.admin.people import list_people
from service.admin.scores import problem_sets, score_table
from service.auth import Surface, require_account, staff_required
from service.auth.current import RoleGate
from service.auth.users import set_disabled, set_role
from service.db import get_db
from service.models import Role, User

bp = Blueprint("admin", __name__, static_folder="static", static_url_path="/admin/static")


#: Restrict a view to admins.
admin_required = RoleGate(
    lambda user: user.is_admin, "Only administrators can change people's roles or accounts."
)


#: Longest page number read; list_people clamps any page to the last one anyway.
MAX_PAGE_DIGITS = 7


def _page_number() -> int:
    """Return the requested page; anything but a plain ASCII number means the first page."""
    raw = request.args.get("page", "1").strip()
    # isdigit() alone accepts digits int() refuses (superscripts like "²").
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS:
        return max(1, int(raw))
    return 1


@bp.get("/admin/users")
@staff_required
async def users() -> ResponseReturnValue:
    """List people with their role, state, last sign-in and submission count."""
    async with get_db().session() as db:
        people = await list_people(db, request.args.get("q", ""), _page_number())
    return await render_template(
        "admin/users.html", people=people, roles=[role.value for role in Role]
    )


async def _target_and_actor(user_id: int) -> tuple[User, User]:
    actor = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        target = (await db.execute(select(User).where(User.id == user_id))).scalar_one_or_none()
    if target is None:
        abort(404, "There is no user with this id.")
    return target, actor


def _is_self(target: User, actor: User) -> bool:
    # Role changes apply to every account sharing the address, so that counts as oneself too.
    return target.id == actor.id or target.email.strip().lower() == actor.email.strip().lower()


def _back_to_people() -> ResponseReturnValue:
    return redirect(url_for("admin.users", q=request.args.get("q") or None))


@bp.post("/admin/users/<int:user_id>/role")
@admin_required
async def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role; admins cannot demote themselves."""
    form = await request.form
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        abort(400, f"Choose a role among {', '.join(r.value for r in Role)}.")
    target, actor = await _target_and_actor(user_id)
    if _is_self(target, actor) and role is not Role.ADMIN:
        abort(400, "You cannot remove your own admin role. Ask another administrator.")
    async with get_db().session() as db:
        changed = await set_role(db, target.email, role)
        await db.commit()
    await flash(f"{target.email} is now {role.value} ({len(changed)} account(s)).", "info")
    return _back_to_people()


async def _set_disabled(user_id: int, disabled: bool) -> ResponseReturnValue:
    target, actor = await _target_and_actor(user_id)
    if _is_self(target, actor):
        abort(400, "You cannot disable or enable your own account.")
    async with get_db().session() as db:
        changed = await set_disabled(db, target.email, disabled)
        await db.commit()
    state = "disabled and signed out" if disabled else "enabled"
    await flash(f"{target.email} is {state} ({len(changed)} account(s)).", "info")
    return _back_to_people()


@bp.post("/admin/users/<int:user_id>/disable")
@admin_required
async def disable(user_id: int) -> ResponseReturnValue:
    """Disable a user and end every session they have."""
    return await _set_disabled(user_id, True)


@bp.post("/admin/users/<int:user_id>/enable")
@admin_required
async def enable(user_id: int) -> ResponseReturnValue:
    """Let a disabled user sign in again."""
    return await _set_disabled(user_id, False)


async def _chosen_set() -> tuple[list[str], str | None]:
    async with get_db().session() as db:
        sets = await problem_sets(db)
    wanted = request.args.get("set")
    if wanted is None:
        return sets, sets[0] if sets else None
    if wanted not in sets:
        abort(404, f"There is no problem set named {wanted!r}.")
    return sets, wanted


def _everyone() -> bool:
    """Return whether staff asked to rank every account (``?everyone=1``), not only students."""
    return request.args.get("everyone") == "1"


@bp.get("/scoreboard")
@staff_required
async def scoreboard() -> ResponseReturnValue:
    """Show the scoreboard of one problem set, with every set as a tab."""
    sets, chosen = await _chosen_set()
    table = None
    if chosen is not None:
        async with get_db().session() as db:
            table = await score_table(db, chosen, everyone=_everyone())
    return await render_template(
        "admin/scoreboard.html", sets=sets, chosen=chosen, table=table, everyone=_everyone()
    )


@bp.get("/scoreboard.csv")
@staff_required
async def scoreboard_csv() -> ResponseReturnValue:
    """Download the scores of one problem set as CSV for a gradebook."""
    _, chosen = await _chosen_set()
    if chosen is None:
        abort(404, "There are no problems yet, so there are no scores to export.")
    async with get_db().session() as db:
        table = await score_table(db, chosen, everyone=_everyone())
    return Response(
        scores_csv(table),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(chosen)}"',
            "Cache-Control": "no-store",
        },
    )
