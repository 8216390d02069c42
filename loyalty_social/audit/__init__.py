"""The audit log: who changed what, when, with the state before and after.

Every service function that changes configuration or a member's standing calls
``record(...)`` inside its own transaction, so the log cannot be forgotten or drift from the
change (the write path is the audit path). Entry points say who is acting with
``acting_as(...)``: the API key's authentication, the CLI, a console session.

Every layer imports this package for ``record``, so its HTTP side (the audit API, which
authenticates through ``access``) is wired by ``web.py``, which only the app factory loads.
"""

from .actor import acting_as, current_actor
from .service import record

__all__ = ["acting_as", "current_actor", "record"]
