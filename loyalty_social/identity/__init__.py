"""Members, their linked social accounts, OAuth sign-in, identity resolution."""


def init_app(app) -> None:
    from ..consent.service import on_withdrawal
    from ..extensions import api
    from ..privacy import register
    from . import personal_data as data
    from . import providers
    from .api import identities_api
    from .links import forget_unlinked
    from .service import MATCHING

    on_withdrawal(app, MATCHING, forget_unlinked)
    register(app, "member", export=data.export_member, erase=data.start_erasure, order=10)
    register(app, "identity", export=data.export_identity, erase=data.erase_identity, order=20)
    register(app, "member_row", erase=data.finish_erasure, order=90, members=data.member_ids)

    providers.init_app(app)
    api.register_blueprint(identities_api)
