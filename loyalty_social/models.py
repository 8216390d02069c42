"""Imports every feature's models, so metadata (migrations, tests) sees all tables."""


def load_all() -> None:
    from .access import models as _access  # noqa: F401
    from .identity import models as _identity  # noqa: F401
    from .intake import models as _intake  # noqa: F401
    from .rewards import models as _rewards  # noqa: F401
    from .rules import models as _rules  # noqa: F401
