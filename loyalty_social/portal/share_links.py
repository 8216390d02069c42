"""The portal's share-link form: a member asks for a tracked link to a brand page. Any portal
page can embed it (POST url, csrf_token, and optionally next: a /portal/ path to return to)."""

from __future__ import annotations

from flask import current_app, redirect, request, session, url_for

from ..advocates import links
from ..advocates.visitors import hasher
from ..errors import Problem
from ..timeutil import utcnow
from . import session as portal_session
from .privacy import member_or_end
from .views import PortalError, portal


@portal.post("/share-links")
def create_share_link():
    member = member_or_end()
    portal_session.check_csrf()
    url = request.form.get("url", "").strip()
    if not url or len(url) > 2048:
        raise PortalError("Enter the address of one of our pages (at most 2048 characters).")
    visitor = hasher(current_app).of_request(request.environ, utcnow().date())
    try:
        link, created = links.create_link(member, url, creator_visitor=visitor)
    except Problem as error:
        raise PortalError("Share links can only point to our own pages.", 422) from error
    address = links.share_url(link.code)
    session["notice"] = (
        f"Your share link: {address}" if created else f"You already have a link for it: {address}"
    )
    target = request.form.get("next", "")
    if not target.startswith("/portal/") or "//" in target or "\\" in target:
        target = url_for("portal.connections")
    return redirect(target, 303)
