"""Operations: find events and replay them (nothing pays twice), deliveries that gave up and
their retry, the sources' signing secrets (rotation: admin only; the new secret is shown once)
and the identity flags waiting for a review."""

from __future__ import annotations

from flask import abort, render_template, request

from ..delivery import inspection
from ..errors import Problem
from ..identity.signup import list_flags
from ..intake import service as events
from ..intake import sources
from .blueprint import console, nav_item, role_required

nav_item("Operations", "console.operations", "viewer", order=70)
PAGE = 50
FILTERS = ("event_id", "member_id", "type", "status", "source")
STATUSES = ("", "pending", "processed", "failed")


def _filters() -> dict:
    return {k: (request.args.get(k) or "").strip()[:128] for k in FILTERS}


def _page(notice=None, secret=None, status=200):
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
        flags=list_flags(open_only=True, limit=PAGE),
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
