"""What awards and offer grants contribute to analytics: the rebuild source (``service`` and
``offers`` add the same figures as they write, in the same transaction)."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from ..analytics.sources import Source, utc_day
from ..extensions import db
from ..intake.models import ActivityEvent
from .models import Award, OfferGrant

PAID = ("granted", "reversed")


def _daily():
    network = func.coalesce(ActivityEvent.data["network"].as_string(), "")
    approved = and_(Award.status.in_(PAID), Award.decided_at.is_not(None))
    # Credited when granted, or when a marketer approved it after a hold.
    credited = utc_day(case((approved, Award.decided_at), else_=Award.created_at))
    figures = (
        ("points", credited, Award.status.in_(PAID)),
        ("points.reversed", utc_day(Award.reversed_at), Award.status == "reversed"),
        (
            "awards.held",
            utc_day(Award.created_at),
            or_(Award.status == "held", approved, Award.status == "rejected"),
        ),
    )
    for metric, day, where in figures:
        query = (
            select(day, Award.rule_id, network, func.count(), func.sum(Award.points))
            .join(ActivityEvent, ActivityEvent.id == Award.event_id)
            .where(where)
            .group_by(day, Award.rule_id, network)
        )
        for row_day, rule_id, net, count, points in db.session.execute(query):
            if metric == "points":  # one row per rule, one per network: each chart reads its own
                yield ("points", row_day, rule_id, "", count, points)
                yield ("points.network", row_day, net, "", count, points)
            else:
                yield (metric, row_day, rule_id, net, count, points)
    for metric, column in (
        ("offers.granted", OfferGrant.granted_at),
        ("offers.redeemed", OfferGrant.redeemed_at),
    ):
        day = utc_day(column)
        query = (
            select(day, OfferGrant.offer_id, func.count())
            .where(column.is_not(None))
            .group_by(day, OfferGrant.offer_id)
        )
        for row_day, offer_id, count in db.session.execute(query):
            yield (metric, row_day, offer_id, "", count, 0)


def _members():
    """Points and awards a member holds: every award credited and not clawed back."""
    query = (
        select(Award.member_id, func.sum(Award.points), func.count())
        .where(Award.status == "granted")
        .group_by(Award.member_id)
    )
    yield from db.session.execute(query)


SOURCE = Source(
    "rewards",
    (
        "points",
        "points.network",
        "points.reversed",
        "awards.held",
        "offers.granted",
        "offers.redeemed",
    ),
    _daily,
    _members,
)
