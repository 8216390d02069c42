"""The console's own pages: the start page, the audit log and the users (admin)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, redirect, render_template, request, url_for

from ..access import users
from ..audit import service as audit_service
from .blueprint import console, nav_item, role_required

AUDIT_PAGE = 50
MAX_FILTER = 160

nav_item("Audit log", "console.audit_log", "viewer", order=80)
nav_item("Users", "console.user_list", "admin", order=90)


@console.get("/")
def home():
    return render_template("console/home.html")


def _day(value: str, field: str, errors: dict) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        errors[field] = "Pick a date (YYYY-MM-DD)."
        return None


@console.get("/audit")
def audit_log():
    """Every change, newest first; filtered by who, what, which record and when."""
    args = {k: (request.args.get(k) or "").strip()[:MAX_FILTER] for k in FILTERS}
    errors: dict[str, str] = {}
    since = _day(args["since"], "since", errors)
    until = _day(args["until"], "until", errors)
    if since and until and until < since:
        errors["until"] = "The end date is before the start date."
    records = []
    if not errors:
        records = audit_service.search(
            actor=args["actor"] or None,
            action=args["action"] or None,
            target_kind=args["target_kind"] or None,
            target_id=args["target_id"] or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            after_id=request.args.get("after") or None,
            limit=AUDIT_PAGE,
        )
    people = {f"console:{u.id}": u.email for u in users.list_users()}
    return render_template(
        "console/audit.html",
        records=records,
        args=args,
        errors=errors,
        people=people,
        next_after=records[-1].id if len(records) == AUDIT_PAGE else None,
    ), (422 if errors else 200)


FILTERS = ("actor", "action", "target_kind", "target_id", "since", "until")


@console.get("/users")
@role_required("admin")
def user_list():
    return render_template("console/users.html", users=users.list_users(), roles=users.ROLES)


@console.post("/users")
@role_required("admin")
def user_create():
    form = request.form
    try:
        users.create_user(form.get("email", ""), form.get("role", ""), form.get("password") or None)
    except users.UserError as error:
        return render_template(
            "console/users.html",
            users=users.list_users(),
            roles=users.ROLES,
            error=str(error),
            form=form,
        ), 422
    return redirect(url_for("console.user_list"), 303)


@console.post("/users/<user_id>/role")
@role_required("admin")
def user_role(user_id):
    if users.get(user_id) is None:
        abort(404, "No such user.")
    try:
        users.set_role(user_id, request.form.get("role", ""))
    except users.UserError as error:
        abort(422, str(error))
    return redirect(url_for("console.user_list"), 303)


@console.post("/users/<user_id>/unlock")
@role_required("admin")
def user_unlock(user_id):
    if users.get(user_id) is None:
        abort(404, "No such user.")
    users.unlock(user_id)
    return redirect(url_for("console.user_list"), 303)
