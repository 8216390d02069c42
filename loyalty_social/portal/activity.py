"""The member's activity page: their advocate level, ways to earn, their share links and
their timeline. It asks each feature itself (timeline, advocates, rules, identity)."""

from __future__ import annotations

from flask import render_template, request, session

from ..advocates import links as share_links
from ..advocates import scoring
from ..consent import service as consent
from ..errors import Problem
from ..identity import providers
from ..rules import service as rules
from ..rules.ways import WHAT, ways_to_earn
from ..timeline import service as timeline
from . import session as portal_session
from .privacy import member_or_end
from .views import PortalError, portal

PAGE = 20
LEVEL_CHANGES = {"up": "You became {level}", "down": "Your level went back to {level}"}
DONE = {
    "member.signed_up": "You joined the programme",
    "social.shared": "You shared a post about us",
    "social.followed": "You followed us",
    "review.published": "You published a review",
    "review.removed": "A review of yours was removed",
    "community.posted": "You posted in the community",
    "community.milestone": "You reached a community milestone",
    "social.share_verified": "People clicked a post you shared: it counts as proven",
    "referral.attributed": "A friend joined through your share link",
    "member.updated": "Your membership details changed",
}
AWARDS = {
    "granted": "You earned {points} points",
    "held": "{points} points are being checked",
    "reversed": "{points} points were taken back",
    "rejected": "{points} points were not approved",
}


def describe(item: dict, labels: dict[str, str]) -> str:
    """One timeline item in plain words for its member."""
    details, kind = item["details"], item["kind"]
    if kind == "level_changed":
        data = details["data"] or {}
        template = LEVEL_CHANGES.get(data.get("direction"), LEVEL_CHANGES["up"])
        return template.format(level=str(data.get("level", "")).title()) + " (advocate level)"
    if kind == "activity":
        return (
            DONE.get(details["type"]) or f"Activity: {WHAT.get(details['type'], details['type'])}"
        )
    if kind == "award" and not details["points"]:
        return "You got a reward"
    if kind == "award":
        template = AWARDS.get(details["status"], "{points} points")
        return template.format(points=details["points"])
    if kind == "offer_granted":
        return f"You got early access: {details.get('name') or 'an offer'}"
    if kind in ("consent_granted", "consent_withdrawn"):
        label = labels.get(details["purpose"], details["purpose"])
        verb = "allowed" if kind == "consent_granted" else "withdrew"
        return f"You {verb}: {label}"
    if kind == "account_linked":
        handle = f" as {details['handle']}" if details.get("handle") else ""
        unlinked = " (since unlinked)" if details.get("status") == "unlinked" else ""
        return f"You linked your {details['provider']} account{handle}{unlinked}"
    if kind == "click":
        where = f" from {details['referrer_host']}" if details.get("referrer_host") else ""
        counted = "" if details.get("counted") else " (a repeat visit or a bot: not counted)"
        return f"Someone opened your share link {details['link_code']}{where}{counted}"
    return kind


def _links(member_id: str) -> list[dict]:
    """The member's share links with their distinct human clicks (the bars' widths)."""
    rows = share_links.member_links(member_id)
    most = max((row.clicks for row in rows), default=0) or 1
    return [
        {
            "code": row.code,
            "url": share_links.share_url(row.code),
            "target": row.target_url,
            "clicks": row.clicks,
            "width": round(100 * row.clicks / most),
            "verified": row.verified_at is not None,
            "disabled": row.disabled_at is not None,
        }
        for row in rows
    ]


@portal.get("/activity")
def activity():
    member = member_or_end()
    cursor = request.args.get("before") or None
    try:
        page = timeline.member_timeline(member, cursor, PAGE)
    except Problem:
        raise PortalError("That page of your activity does not exist.", 400) from None
    labels = {c["purpose"]: c["label"] for c in consent.consents(member)}
    linking = rules.nominal_points("social.linked")
    return render_template(
        "portal/activity.html",
        standing=scoring.standing(member),
        links=_links(member),
        ways=ways_to_earn(),
        networks=[
            {"label": config.label, "earns": linking} for config in providers.configs().values()
        ],
        items=[{**item, "words": describe(item, labels)} for item in page["items"]],
        older=page["next_cursor"],
        first_page=cursor is None,
        notice=session.pop("notice", None),
        return_to=session.get("return_to"),
        csrf_token=portal_session.csrf_token(),
    )
