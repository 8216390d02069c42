"""Analytics: daily rollups every write path adds to in its own transaction, and the reads
the console and the API chart from. Below the features that write to it; it reads none."""


def init_app(app) -> None:
    from ..extensions import api
    from . import rollups
    from .api import analytics_api

    rollups.install()
    api.register_blueprint(analytics_api)
