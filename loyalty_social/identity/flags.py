"""Identity flags (refused duplicate-account attempts) marked reviewed by a person: who, when
and an optional note, with the audit record in the same transaction. Listing stays in
``signup.list_flags``; an unreviewed flag is an open one."""

from __future__ import annotations

from .. import audit
from ..errors import Problem
from ..extensions import db
from ..timeutil import utcnow
from .models import IdentityFlag

MAX_RESOLUTION = 512  # the column's width


def check_resolution(resolution: str | None) -> str | None:
    """The note to store (trimmed; empty is none), or a validation problem naming the field."""
    resolution = (resolution or "").strip()
    if len(resolution) > MAX_RESOLUTION:
        message = f"The note is at most {MAX_RESOLUTION} characters."
    elif "\x00" in resolution:
        message = "The note cannot contain a NUL character."
    else:
        return resolution or None
    raise Problem("validation-failed", message, errors={"resolution": [message]})


def resolve_flag(flag_id: str, resolution: str | None, actor: str | None = None) -> IdentityFlag:
    """Mark a flag reviewed (once: a second time is a conflict), audited. Commits."""
    resolution = check_resolution(resolution)
    flag = db.session.get(IdentityFlag, flag_id, with_for_update=True)
    if flag is None:
        raise Problem("not-found", f"No identity flag {flag_id!r}.")
    if flag.reviewed_at is not None:
        db.session.rollback()
        raise Problem("conflict", f"Identity flag {flag_id!r} is already reviewed.")
    flag.reviewed_at = utcnow()
    flag.reviewed_by = (actor or audit.current_actor())[:160]
    flag.resolution = resolution
    audit.record(
        "identity_flag.resolved",
        target=("identity_flag", flag_id),
        before={"reviewed": False},
        after={"reviewed": True, "resolution": resolution, "kind": flag.kind},
    )
    db.session.commit()
    return flag
