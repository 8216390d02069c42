"""Referral flags: listed for review and resolved by a marketer, with an audit record. The
held awards themselves are approved or rejected in the approval queue (awards API)."""

from __future__ import annotations

from .. import audit
from ..errors import Problem
from ..extensions import db
from ..identity.flags import by_status, check_resolution
from ..timeutil import utcnow
from .models import ReferralFlag


def list_flags(status: str = "open", limit: int = 100) -> list[ReferralFlag]:
    query = db.select(ReferralFlag).order_by(ReferralFlag.created_at.desc(), ReferralFlag.id)
    return list(db.session.scalars(by_status(query, ReferralFlag.resolved_at, status).limit(limit)))


def resolve_flag(flag_id: str, resolution: str | None, actor: str | None) -> ReferralFlag:
    """Mark a flag resolved (once: a second resolution is a conflict), audited. Commits.
    The note is checked as identity flags' are (at most 512 characters, no NUL)."""
    resolution = check_resolution(resolution)
    flag = db.session.get(ReferralFlag, flag_id, with_for_update=True)
    if flag is None:
        raise Problem("not-found", f"No referral flag {flag_id!r}.")
    if flag.resolved_at is not None:
        db.session.rollback()
        raise Problem("conflict", f"Referral flag {flag_id!r} is already resolved.")
    flag.resolved_at = utcnow()
    flag.resolved_by = (actor or "unknown")[:128]
    flag.resolution = resolution
    audit.record(
        "referral_flag.resolved",
        target=("referral_flag", flag_id),
        before={"resolved": False},
        after={"resolved": True, "resolution": resolution, "kind": flag.kind},
    )
    db.session.commit()
    return flag
