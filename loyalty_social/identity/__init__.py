"""Members, their linked social accounts, OAuth sign-in, identity resolution."""


def init_app(app) -> None:
    from ..extensions import api
    from . import providers
    from .api import identities_api

    providers.init_app(app)
    api.register_blueprint(identities_api)
