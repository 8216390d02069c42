"""Member pages: arrive from the loyalty portal, link social accounts, sign in, consent."""

from __future__ import annotations

from datetime import timedelta


def init_app(app) -> None:
    from ..privacy import register
    from . import activity, personal_data, privacy, share_links  # noqa: F401  (their pages)
    from .views import portal

    register(
        app,
        "portal_sessions",
        export=personal_data.export_sessions,
        erase=personal_data.erase_sessions,
        members=personal_data.member_ids,
    )

    app.config.update(
        SESSION_COOKIE_NAME="ls_portal",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production"
        or app.config["PUBLIC_URL"].startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=app.config["PORTAL_SESSION_SECONDS"]),
    )
    app.register_blueprint(portal)
