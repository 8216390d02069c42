"""Advocates: tracked share links (``/s/<code>``), clicks, verified shares, referral
attribution and referral fraud checks."""


def init_app(app) -> None:
    """Nothing to register yet: the redirect, the API and the portal form follow."""
    from ..consent.service import on_withdrawal
    from .config import check_config
    from .scoring import PURPOSE, forget

    check_config(app.config)
    on_withdrawal(app, PURPOSE, forget)  # members without the consent are not scored
