"""Advocates: tracked share links (``/s/<code>``), clicks, verified shares, referral
attribution and referral fraud checks."""


def init_app(app) -> None:
    """Nothing to register yet: the redirect, the API and the portal form follow."""
