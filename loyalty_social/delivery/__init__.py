"""Delivery: awards to the loyalty backend exactly once through outages; signed outbound events.

See ``outbox`` for writing it, ``service`` for delivering it, ``adapters`` for the backend
interface.
"""


def init_app(app) -> None:
    from .. import outbound
    from ..extensions import api
    from ..privacy import register
    from . import personal_data
    from .adapters import build_adapter
    from .api import deliveries_api, subscriptions_api
    from .handoff import install_session_hooks
    from .outbox import publish

    build_adapter(app.config)  # a misconfigured backend fails at start-up, not per award
    install_session_hooks()
    outbound.register(app, publish)  # the domain's consent and link events
    register(
        app,
        "deliveries",
        export=personal_data.export_deliveries,
        erase=personal_data.erase_deliveries,
        order=50,
    )
    api.register_blueprint(deliveries_api)
    api.register_blueprint(subscriptions_api)
