"""Operations: find events and replay them (nothing pays twice), deliveries that gave up and
their retry, the sources' signing secrets (rotation: admin only; the new secret is shown once)
and the identity and referral flags waiting for a review (marked reviewed by an approver, with
an optional note, through each feature's ``resolve_flag``)."""

from __future__ import annotations

from flask import abort, render_template, request

from .. import audit
from ..advocates import flags as referral_flags
from ..delivery import inspection
from ..errors import Problem
from ..identity import flags as identity_flags
from ..intake import service as events
from ..intake import sources
from ..storable import form_errors, shows_fields_beside
from .blueprint import console, nav_item, role_required

nav_item("Operations", "console.operations", "viewer", order=70)
PAGE = 50
FILTERS = ("event_id", "member_id", "type", "status", "source")
STATUSES = ("", "pending", "processed", "failed")


def _filters() -> dict:
    return {k: (request.args.get(k) or "").strip()[:128] for k in FILTERS}


def _page(notice=None, secret=None, status=200, flag_error=None):
    args = _filters()
    if args["status"] not in STATUSES:
        args["status"] = ""
    if args["event_id"]:
        found = events.get_event(args["event_id"])
        rows, next_after = ([found] if found else []), None
    else:
        rows, next_after = events.list_events(
            status=args["status"] or None,
            source=args["source"] or None,
            type=args["type"] or None,
            member_id=args["member_id"] or None,
            after=(request.args.get("after") or None),
            limit=PAGE,
        )
    failed, _ = inspection.list_deliveries(failed=True, limit=PAGE)
    return render_template(
        "console/operations.html",
        args=args,
        statuses=STATUSES,
        events=rows,
        next_after=next_after,
        failed=failed,
        sources=sources.list_sources(),
        flags=identity_flags.list_flags("open", PAGE),
        referral_flags=referral_flags.list_flags("open", PAGE),
        flag_error=flag_error or {},
        notice=notice,
        secret=secret,
    ), status


@console.get("/operations")
def operations():
    return _page()


@console.post("/operations/events/<event_id>/replay")
@role_required("editor")
def event_replay(event_id):
    try:
        events.replay_event(event_id[:40])
    except Problem:
        abort(404, "No such event.")
    return _page(notice=f"Event {event_id} was queued again; nothing it paid pays twice.")


@console.post("/operations/deliveries/<delivery_id>/retry")
@role_required("editor")
def delivery_retry(delivery_id):
    try:
        inspection.retry(delivery_id[:40])
    except Problem as problem:
        if problem.problem_type.slug == "not-found":
            abort(404, "No such delivery.")
        return _page(notice=problem.detail, status=409)
    return _page(notice=f"Delivery {delivery_id} will be sent again.")


@console.post("/operations/sources/<name>/rotate")
@role_required("admin")
def source_rotate(name):
    try:
        secret = sources.rotate_secret(name[:64])
    except sources.SourceError:
        abort(404, "No such source.")
    return _page(
        notice=f"Source {name} has a new signing secret; the old ones verify for 24 hours more.",
        secret=secret,
    )


def _resolve(kind: str, flag_id: str, resolve):
    """Mark one flag reviewed; a bad note is shown beside that flag's note field."""
    note = request.form.get("resolution", "")
    try:
        if unstorable := form_errors():
            raise Problem("validation-failed", " ".join(unstorable.values()))
        resolve(flag_id[:40], note, audit.current_actor())
    except Problem as problem:
        slug = problem.problem_type.slug
        if slug == "not-found":
            abort(404, "No such flag.")
        if slug == "conflict":
            return _page(notice=problem.detail, status=409)
        note = note.replace("\x00", "")[:600]
        error = {"kind": kind, "id": flag_id, "message": problem.detail, "note": note}
        return _page(status=422, flag_error=error)
    return _page(notice=f"Flag {flag_id} marked reviewed.")


@console.post("/operations/identity-flags/<flag_id>/resolve")
@role_required("approver")
@shows_fields_beside
def identity_flag_resolve(flag_id):
    return _resolve("identity", flag_id, identity_flags.resolve_flag)


@console.post("/operations/referral-flags/<flag_id>/resolve")
@role_required("approver")
@shows_fields_beside
def referral_flag_resolve(flag_id):
    return _resolve("referral", flag_id, referral_flags.resolve_flag)
