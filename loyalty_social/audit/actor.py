"""Who is acting: set once by the entry point (a request's key, a CLI run, a console
session), read by ``record``. A context variable, so threads and requests never mix."""

from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("audit_actor", default=None)
MAX_ACTOR = 160


def current_actor() -> str:
    """The acting principal, or ``system`` for jobs and the scheduler."""
    return _actor.get() or "system"


def set_actor(actor: str | None):
    """Set for the rest of this context (a request); returns a token for ``reset_actor``."""
    return _actor.set(actor[:MAX_ACTOR] if actor else None)


def reset_actor(token) -> None:
    _actor.reset(token)


@contextmanager
def acting_as(actor: str):
    token = set_actor(actor)
    try:
        yield
    finally:
        _actor.reset(token)
