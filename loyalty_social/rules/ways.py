"""Ways to earn: the active rules in plain words, for members (the portal's activity page).

A member reads what each rule rewards, how much, under which limits; streaks say how many days
in a row; offers say "early access". What a rule's conditions check beyond that stays the
marketer's description (member-facing words for every clause would read like the rule)."""

from __future__ import annotations

from datetime import datetime

from ..timeutil import utcnow
from . import documents
from .service import list_rules

WHAT = {
    "member.signed_up": "joining the programme",
    "social.shared": "sharing a post about us",
    "social.followed": "following us",
    "social.mentioned": "mentioning us",
    "content.published": "publishing content about us",
    "community.posted": "posting in the community",
    "review.published": "publishing a review",
    "community.milestone": "reaching a community milestone",
    "referral.converted": "referring a friend who joins",
    "referral.attributed": "a friend joining through your share link",
    "social.share_verified": "a share of yours that people click",
    "social.linked": "linking a social account",
    "advocate.level_changed": "reaching a new advocate level",
}


def ways_to_earn(now: datetime | None = None) -> list[dict]:
    """Every active rule running now: its name, what it rewards and how, in words."""
    now = now or utcnow()
    ways = []
    for row in list_rules(status="active"):
        rule = documents.compile_saved(row)
        if (rule.starts_at and now < rule.starts_at) or (rule.ends_at and now >= rule.ends_at):
            continue
        what = " or ".join(WHAT.get(t, t) for t in rule.event_types)
        points = rule.plan.nominal_points()
        reward = (
            " and ".join(
                part
                for part in (
                    f"{points} points" if points else "",
                    "early access to an offer" if rule.plan.offers else "",
                )
                if part
            )
            or "a reward"
        )
        notes = [_streak_words(node_days) for node_days in rule.streaks]
        notes += [f"at most {limit.describe()}" for limit in rule.period_limits]
        if rule.once_per == "object":
            notes.append("once per item")
        if rule.targeted:
            notes.append("a personal reward: it needs your consent to targeted rewards")
        ways.append(
            {
                "id": rule.id,
                "name": rule.name,
                "description": row.description,
                "reward": reward,
                "points": points,
                "for": what,
                "notes": notes,
                "sentence": f"{reward} for {what}" + (f" ({'; '.join(notes)})" if notes else ""),
            }
        )
    return ways


def _streak_words(spec_days) -> str:
    spec, days = spec_days
    where = f" whose {spec.words_where()}" if spec.where_nodes else ""
    return f"on {days} days in a row: {WHAT.get(spec.event_type, spec.event_type)}{where}"
