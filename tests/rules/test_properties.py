"""Property: whatever the order and batching of events, no limit or budget is ever exceeded.

Each example uses fresh rules and members on one SQLite app (archiving the previous rules),
so examples are independent without rebuilding the database.
"""

import itertools
import uuid
from collections import Counter, defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_social.extensions import db
from loyalty_social.rewards.models import Award
from loyalty_social.rules import active, service
from loyalty_social.rules.models import Campaign, Rule

from .conftest import T0, process, review, store

EVENT = st.tuples(
    st.integers(0, 2),  # member
    st.integers(0, 40),  # hours after T0 (spans two days)
    st.integers(0, 3),  # sku
    st.sampled_from(["review.published", "social.shared"]),
)
CEILING = 45


def _rules(app, tag):
    with app.app_context():
        for rule in db.session.scalars(db.select(Rule).where(Rule.status == "active")):
            service.set_status(rule.id, "archived", "tests")
        campaign = service.create_campaign({"name": tag, "budget_points": 60})
        ids = {
            "daily": service.create_rule(
                {
                    "name": "daily",
                    "event_types": ["review.published"],
                    "rewards": [{"kind": "fixed", "points": 5}],
                    "limits": {"per_member": [{"period": "day", "count": 2}]},
                },
                status="active",
            ).id,
            "sku": service.create_rule(
                {
                    "name": "sku",
                    "event_types": ["review.published"],
                    "rewards": [{"kind": "fixed", "points": 7}],
                    "limits": {
                        "once_per": "data.sku",
                        "per_member": [{"period": "rolling", "days": 2, "points": 14}],
                    },
                    "budget": {"count": 5},
                },
                status="active",
            ).id,
            "cool": service.create_rule(
                {
                    "name": "cool",
                    "event_types": ["social.shared", "review.published"],
                    "rewards": [{"kind": "fixed", "points": 10}],
                    "limits": {"cooldown_seconds": 6 * 3600},
                    "campaign_id": campaign.id,
                },
                status="active",
            ).id,
        }
        active.forget_cached_rules()
        return ids, campaign.id


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(EVENT, min_size=1, max_size=25), batch=st.integers(1, 6), data=st.data())
def test_random_interleavings_respect_every_limit_and_budget(rapp, events, batch, data):
    rapp.config["MEMBER_DAILY_POINTS_CEILING"] = CEILING
    tag = uuid.uuid4().hex[:8]
    rule_ids, campaign_id = _rules(rapp, tag)
    stored = []
    for member, hours, sku, kind in events:
        payload = (
            review(f"{tag}-{len(stored)}", sku=f"S{sku}")
            if kind == "review.published"
            else {"network": "x", "url": f"https://ex.test/{tag}/{len(stored)}"}
        )
        stored.append(
            store(rapp, kind, f"{tag}-M{member}", payload, at=T0 + timedelta(hours=hours))
        )
    order = data.draw(st.permutations(stored))
    for start in range(0, len(order), batch):
        process(rapp, *order[start : start + batch])

    with rapp.app_context():
        awards = list(
            db.session.scalars(db.select(Award).where(Award.rule_id.in_(rule_ids.values())))
        )
        from loyalty_social.intake.models import ActivityEvent

        events_by_id = {
            e.id: e
            for e in db.session.scalars(
                db.select(ActivityEvent).where(ActivityEvent.id.in_(stored))
            )
        }
        assert all(e.status == "processed" for e in events_by_id.values())
        by_rule = defaultdict(list)
        for award in awards:
            by_rule[award.rule_id].append((award, events_by_id[award.event_id]))
        daily = Counter((a.member_id, e.occurred_at.date()) for a, e in by_rule[rule_ids["daily"]])
        assert max(daily.values(), default=0) <= 2
        skus = Counter((a.member_id, e.data["sku"]) for a, e in by_rule[rule_ids["sku"]])
        assert max(skus.values(), default=0) <= 1
        assert len(by_rule[rule_ids["sku"]]) <= 5
        assert db.session.get(Rule, rule_ids["sku"]).spent_count == len(by_rule[rule_ids["sku"]])
        for (member, _), _count in skus.items():  # rolling 2 days: at most 14 points
            times = sorted(
                e.occurred_at.date() for a, e in by_rule[rule_ids["sku"]] if a.member_id == member
            )
            for day in times:
                window = [t for t in times if 0 <= (day - t).days < 2]
                assert len(window) * 7 <= 14
        cool = defaultdict(list)
        for a, e in by_rule[rule_ids["cool"]]:
            cool[a.member_id].append(e.occurred_at)
        for times in cool.values():
            times.sort()
            assert all(b - a >= timedelta(hours=6) for a, b in itertools.pairwise(times))
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.spent_points <= 60
        assert campaign.spent_points == 10 * len(by_rule[rule_ids["cool"]])
        per_day = Counter()
        for award in awards:
            per_day[(award.member_id, events_by_id[award.event_id].occurred_at.date())] += (
                award.points
            )
        assert max(per_day.values(), default=0) <= CEILING
        db.session.remove()
