"""Identity flags (refused duplicate-account attempts): listed for review, and marked reviewed
by a person (who, when and an optional note) with the audit record in the same transaction.
An unreviewed flag is an open one. The status filter is shared with referral flags."""

from __future__ import annotations

from .. import audit
from ..errors import Problem
from ..extensions import db
from ..timeutil import utcnow
from .models import IdentityFlag

MAX_RESOLUTION = 512  # the column's width
STATUSES = ("open", "resolved", "all")  # the flag lists' filter (identity and referral flags)


def by_status(query, done_at, status: str):
    """``query`` narrowed to the flags that are open (``done_at`` null), resolved, or all."""
    if status == "open":
        return query.where(done_at.is_(None))
    if status == "resolved":
        return query.where(done_at.is_not(None))
    return query


def list_flags(status: str = "open", limit: int = 100) -> list[IdentityFlag]:
    """Identity flags of a status (open | resolved | all), newest first."""
    query = db.select(IdentityFlag).order_by(IdentityFlag.created_at.desc(), IdentityFlag.id)
    return list(db.session.scalars(by_status(query, IdentityFlag.reviewed_at, status).limit(limit)))


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
