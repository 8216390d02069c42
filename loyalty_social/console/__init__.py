"""The marketer console: server-rendered pages under /console for people (not API keys).

Pages join the one blueprint (``blueprint.console``) from modules named for what they show;
each adds itself to the navigation with ``nav_item`` and guards its changes with
``role_required``. They ask each feature's service, as the portal does.
"""

from __future__ import annotations


def init_app(app) -> None:
    from . import auth_views, lockout, views  # noqa: F401  (their routes join the blueprint)
    from .blueprint import console

    lockout.init_app(app)
    app.register_blueprint(console)
