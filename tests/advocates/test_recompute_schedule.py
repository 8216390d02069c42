"""The schedule runs advocates.recompute on a real RQ worker (PostgreSQL): clicks on a
member's share links, which arrive without events, reach the score there; the level change it
records is processed by the worker like any event."""

from __future__ import annotations

from datetime import timedelta

from loyalty_social.advocates import scoring
from loyalty_social.advocates.models import AdvocateScore, Click, ShareLink
from loyalty_social.consent.service import set_consent
from loyalty_social.extensions import db
from loyalty_social.identity.service import insert_members
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.timeutil import utcnow

from ..helpers import seed, wait_until


def test_the_scheduled_recompute_scores_clicks_and_the_level_change_is_processed(
    pg_config, make_app, start_worker
):
    config = pg_config | {"ADVOCATE_RECOMPUTE_INTERVAL_SECONDS": 1}
    app = make_app(config)
    seed(app, rules=())
    now = utcnow()
    with app.app_context():
        insert_members(["M-1"])
        set_consent("M-1", scoring.PURPOSE, True, "backend")
        db.session.add(
            ShareLink(
                code="sched1",
                member_id="M-1",
                target_url="https://shop.test/",
                target_hash="2" * 64,
                created_at=now,
                clicks=60,
                bot_clicks=0,
                repeat_clicks=0,
            )
        )
        db.session.flush()
        db.session.add_all(
            Click(
                link_code="sched1",
                at=now - timedelta(minutes=i),
                agent="desktop",
                visitor=f"v{i}",
                counted=True,
                bot=False,
                repeat=False,
            )
            for i in range(60)
        )
        db.session.commit()
    worker = start_worker(config)

    def level_change():
        with app.app_context():
            row = db.session.get(AdvocateScore, "M-1")
            event = db.session.scalars(
                db.select(ActivityEvent).where(ActivityEvent.type == scoring.LEVEL_CHANGED)
            ).first()
            db.session.commit()
            if row is None or event is None or event.status != "processed":
                return None
            return row.score, row.level, event.data["level"]

    assert wait_until(level_change, timeout=60) == (60, "advocate", "advocate"), worker.log()
