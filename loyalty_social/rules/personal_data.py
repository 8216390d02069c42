"""What the rules engine holds about a member: their limit counters (activity counts and
points per period). Erasure first rejects the member's held awards (their limits and budget
given back: nobody will ever approve them), then deletes the counters."""

from __future__ import annotations

from sqlalchemy import delete

from ..extensions import db
from ..privacy import Erasure, as_dict
from ..rewards import awards
from ..rewards.models import Award
from .held import release_award
from .limits import CounterStore
from .models import RuleCounter

ERASED = "The member's data was erased; this held award pays nothing."


def export_counters(member_id: str) -> list[dict]:
    rows = db.session.scalars(
        db.select(RuleCounter)
        .where(RuleCounter.member_id == member_id)
        .order_by(RuleCounter.scope, RuleCounter.bucket)
    )
    return [as_dict(r, ("scope", "bucket", "count", "points", "last_at")) for r in rows]


def erase_counters(erasure: Erasure) -> dict:
    held = db.session.scalars(
        db.select(Award.id).where(Award.member_id == erasure.member_id, Award.status == "held")
    ).all()
    store = CounterStore()
    for award_id in held:
        release_award(awards.reject(award_id, "erasure", ERASED), store)
    store.flush()
    gone = db.session.execute(
        delete(RuleCounter).where(RuleCounter.member_id == erasure.member_id)
    ).rowcount
    return {"held_awards_rejected": len(held), "counters": gone}
