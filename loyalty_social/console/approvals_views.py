"""Held awards: why each was held, approved or rejected one at a time or in bulk. Approval
pays through rules.held, which checks a targeted award's consent at that moment: an award the
member no longer consents to stays held, and the page says so."""

from __future__ import annotations

from flask import g, render_template, request

from ..errors import Problem
from ..rewards.awards import list_awards
from ..rules.held import approve_held, reject_held
from ..rules.service import rule_names
from .blueprint import console, nav_item, role_required

nav_item("Approvals", "console.approvals", "viewer", order=20)
PAGE = 100
MAX_REASON = 500


def _page(outcomes=None, status: int = 200):
    held, _next = list_awards(status="held", limit=PAGE)
    return render_template(
        "console/approvals.html",
        held=held,
        names=rule_names(a.rule_id for a in held),
        outcomes=outcomes or [],
    ), status


@console.get("/approvals")
def approvals():
    return _page()


@console.post("/approvals")
@role_required("approver")
def approvals_decide():
    """Approve or reject the chosen awards (one button per award, or the bulk bar)."""
    decision = request.form.get("decision")
    one = request.args.get("one")  # a row's own button: that award only
    chosen = [one] if one else request.form.getlist("award_id")[:PAGE]
    reason = (request.form.get("reason") or "").strip()[:MAX_REASON]
    if decision not in ("approve", "reject") or not chosen:
        return _page([("error", "Choose awards and approve or reject them.")], 422)
    if decision == "reject" and not reason:
        return _page([("error", "Say why the awards are rejected.")], 422)
    outcomes, refused = [], False
    for award_id in chosen:
        try:
            if decision == "approve":
                award = approve_held(award_id[:40], g.console_user.actor)
                outcomes.append(("ok", f"{award.id}: paid {award.points} points."))
            else:
                award = reject_held(award_id[:40], g.console_user.actor, reason)
                outcomes.append(("ok", f"{award.id}: rejected."))
        except Problem as problem:
            refused = True
            outcomes.append(("error", f"{award_id[:40]}: {problem.detail}"))
    return _page(outcomes, 409 if refused and len(chosen) == 1 else 200)
