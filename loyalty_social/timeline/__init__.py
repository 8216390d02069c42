"""A member's timeline: what each feature recorded about them, merged newest first. An entry
point: it asks each feature's service (none of them imports another to serve it)."""


def init_app(app) -> None:
    from ..extensions import api
    from .api import timeline_api

    api.register_blueprint(timeline_api)
