"""Members, their linked social accounts, OAuth sign-in, identity resolution."""


def init_app(app) -> None:
    from ..consent.service import on_withdrawal
    from ..extensions import api
    from . import providers
    from .api import identities_api
    from .links import forget_unlinked
    from .service import MATCHING

    on_withdrawal(app, MATCHING, forget_unlinked)

    providers.init_app(app)
    api.register_blueprint(identities_api)
