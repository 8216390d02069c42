"""Reward rules and the evaluation of events against them."""


def init_app(app) -> None:
    """No HTTP surface yet (the marketer API arrives with the rules engine)."""
