"""The marketer console: server-rendered pages under /console for people (not API keys).

Pages join the one blueprint (``blueprint.console``) from modules named for what they show;
each adds itself to the navigation with ``nav_item`` and guards its changes with
``role_required``. They ask each feature's service, as the portal does.
"""

from __future__ import annotations


def init_app(app) -> None:
    # (the view modules' routes join the blueprint when imported)
    from . import (  # noqa: F401
        admin_views,
        analytics_views,
        approvals_views,
        auth_views,
        backtest_views,
        campaigns_views,
        lockout,
        offers_views,
        operations_views,
        preview_views,
        rules_views,
        views,
    )
    from .blueprint import console

    lockout.init_app(app)
    app.register_blueprint(console)
