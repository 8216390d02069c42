"""Advocate score and levels through the real process_events, on SQLite and PostgreSQL:
levels rise with signals and a rule pays an early-access offer on reaching champion; members
without consent are not scored; the incremental score equals the full recompute, old signals
leave the window, and clicks on share links arrive with the recompute."""

from datetime import timedelta

import pytest

from loyalty_social import create_app
from loyalty_social.advocates import scoring
from loyalty_social.advocates.models import AdvocateScore, AdvocateSignal, Click, ShareLink
from loyalty_social.consent.service import set_consent
from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rewards.models import Award
from loyalty_social.rewards.offers import create_offer, member_offers
from loyalty_social.rules import processing
from loyalty_social.settings import SettingsError
from loyalty_social.timeutil import utcnow

from ..conftest import make_config, run_cli
from ..rules.conftest import make_rule, review, send

NOW = utcnow()


def consent(app, member_id, granted=True):
    with app.app_context():
        set_consent(member_id, scoring.PURPOSE, granted, "portal")
        db.session.commit()


def settle(app) -> None:
    """Process what is pending (level changes dispatched to RQ on PostgreSQL)."""
    with app.app_context():
        for _ in range(10):
            pending = list(
                db.session.scalars(
                    db.select(ActivityEvent.id).where(ActivityEvent.status == "pending")
                )
            )
            if not pending:
                return
            processing.process_events(pending)
            db.session.remove()


def reviews(app, member_id, count, days_ago=0, prefix="r"):
    for i in range(count):
        at = NOW - timedelta(days=days_ago, minutes=i)
        send(
            app, "review.published", member_id, review(f"{prefix}{member_id}{days_ago}-{i}"), at=at
        )
    settle(app)


def standing(app, member_id):
    with app.app_context():
        return scoring.standing(member_id)


def level_changes(app, member_id):
    with app.app_context():
        events = db.session.scalars(
            db.select(ActivityEvent)
            .where(
                ActivityEvent.member_id == member_id, ActivityEvent.type == scoring.LEVEL_CHANGED
            )
            .order_by(ActivityEvent.received_at)
        )
        return [(e.data["previous"], e.data["level"], e.status) for e in events]


def test_reaching_champion_grants_early_access_and_withdrawn_consent_does_not(any_app):
    with any_app.app_context():
        offer = create_offer({"name": "Early access", "product": "Spring launch"})
        db.session.commit()
        offer_id = offer.id
    make_rule(
        any_app,
        name="Champions get early access",
        event_types=[scoring.LEVEL_CHANGED],
        conditions={"field": "data.level", "op": "eq", "value": "champion"},
        rewards=[{"kind": "offer", "offer_id": offer_id}],
        limits={"once_per": "object"},
    )
    consent(any_app, "M-1")
    consent(any_app, "M-2")
    consent(any_app, "M-2", granted=False)  # withdrew
    for member in ("M-1", "M-2"):
        reviews(any_app, member, 10)  # 10 x 5 = 50: advocate
    assert standing(any_app, "M-1")["level"] == "advocate"
    assert level_changes(any_app, "M-1") == [("fan", "advocate", "processed")]
    reviews(any_app, "M-1", 30, prefix="more")  # 200: champion
    me = standing(any_app, "M-1")
    assert (me["score"], me["level"], me["next_level"]) == (200, "champion", None)
    assert level_changes(any_app, "M-1")[-1] == ("advocate", "champion", "processed")
    with any_app.app_context():
        assert [g["offer_id"] for g in member_offers("M-1")] == [offer_id]
        assert member_offers("M-2") == []
        assert db.session.get(AdvocateScore, "M-2") is None  # not scored
    assert level_changes(any_app, "M-2") == []
    assert standing(any_app, "M-2")["scored"] is False


def test_withdrawing_consent_forgets_the_score(rapp):
    consent(rapp, "M-1")
    reviews(rapp, "M-1", 3)
    assert standing(rapp, "M-1")["score"] == 15
    consent(rapp, "M-1", granted=False)
    with rapp.app_context():
        assert db.session.get(AdvocateScore, "M-1") is None
        assert db.session.scalars(db.select(AdvocateSignal)).all() == []
        assert scoring.recompute()[0] == 0  # and the recompute does not score them again
        assert db.session.get(AdvocateScore, "M-1") is None


def _scores(app):
    with app.app_context():
        return {
            r.member_id: (r.score, r.level) for r in db.session.scalars(db.select(AdvocateScore))
        }


def test_incremental_equals_recompute_and_old_signals_leave_the_window(any_app):
    for member in ("M-1", "M-2", "M-3"):
        consent(any_app, member)
    reviews(any_app, "M-1", 8, days_ago=80)
    reviews(any_app, "M-1", 4, days_ago=2)
    reviews(any_app, "M-2", 3, days_ago=100)  # outside the 90-day window already
    reviews(any_app, "M-2", 2, days_ago=0)
    for day in range(5):
        send(
            any_app,
            "community.milestone",
            "M-3",
            {"name": "steps", "value": 9000 + day},
            at=NOW - timedelta(days=day),
        )
    settle(any_app)
    incremental = _scores(any_app)
    assert incremental == {"M-1": (60, "advocate"), "M-2": (10, "fan"), "M-3": (10, "fan")}
    with any_app.app_context():
        assert scoring.recompute()[0] == 3
    assert _scores(any_app) == incremental
    # 15 days later the 8 reviews of 80 days ago have left the window: M-1 goes down a level
    with any_app.app_context():
        scored, recorded = scoring.recompute(now=NOW + timedelta(days=15))
        db.session.commit()
    assert scored == 3 and len(recorded) == 1
    assert _scores(any_app)["M-1"] == (20, "fan")
    with any_app.app_context():
        change = db.session.get(ActivityEvent, recorded[0])
        assert change.data == {
            "level": "fan",
            "previous": "advocate",
            "score": 20,
            "direction": "down",
        }


def test_distinct_clicks_on_share_links_count_at_the_recompute(any_app):
    consent(any_app, "M-1")
    reviews(any_app, "M-1", 1)
    with any_app.app_context():
        db.session.add(
            ShareLink(
                code="abc123",
                member_id="M-1",
                target_url="https://shop.test/p/1",
                target_hash="0" * 64,
                created_at=NOW,
                clicks=0,
                bot_clicks=0,
                repeat_clicks=0,
            )
        )
        db.session.flush()
        for i, (counted, bot) in enumerate([(True, False)] * 7 + [(False, True), (False, False)]):
            db.session.add(
                Click(
                    link_code="abc123",
                    at=NOW - timedelta(hours=i),
                    agent="bot" if bot else "desktop",
                    visitor=f"v{i}",
                    counted=counted,
                    bot=bot,
                    repeat=not counted and not bot,
                )
            )
        db.session.commit()
        scoring.recompute()
    assert standing(any_app, "M-1")["score"] == 5 + 7  # a review and 7 distinct human clicks


def test_bad_advocate_settings_stop_the_app_naming_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    for bad, named in (
        ({"ADVOCATE_LEVELS": {"fan": 1, "champion": 200}}, "ADVOCATE_LEVELS"),
        ({"ADVOCATE_WEIGHTS": {"click": 1}}, "ADVOCATE_WEIGHTS"),
        ({"ADVOCATE_WINDOW_DAYS": 0}, "ADVOCATE_WINDOW_DAYS"),
    ):
        with pytest.raises(SettingsError, match=named):
            create_app(make_config(url, **bad))


def test_rules_read_the_scored_level_as_member_advocate_level(any_app):
    bonus = make_rule(
        any_app,
        name="advocates earn more",
        conditions={
            "field": "member.advocate_level",
            "op": "in",
            "value": ["advocate", "champion"],
        },
        rewards=[{"kind": "fixed", "points": 7}],
    )
    consent(any_app, "M-1")
    reviews(any_app, "M-1", 10)  # the tenth makes them an advocate, after the rules ran
    with any_app.app_context():
        assert db.session.scalars(db.select(Award).where(Award.rule_id == bonus)).all() == []
    result = send(any_app, "review.published", "M-1", review("after"), at=NOW)
    assert [a["points"] for a in result["awards"]] == [7]


def test_operator_recomputes_and_reads_a_score_from_the_command_line(rapp, sqlite_config):
    consent(rapp, "M-1")
    reviews(rapp, "M-1", 3)
    done = run_cli(sqlite_config, "advocates", "recompute")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "scored 1 members, 0 level changes"
    shown = run_cli(sqlite_config, "advocates", "score", "M-1")
    assert shown.stdout.strip() == "M-1: 15 (fan); 35 to advocate"
    assert "not scored" in run_cli(sqlite_config, "advocates", "score", "M-2").stdout


def test_a_level_change_waiting_when_consent_is_withdrawn_pays_nothing(pg_rapp):
    """On PostgreSQL with Redis the level change waits in the queue: withdrawn meanwhile, it
    is closed unpaid (consent is checked when the effect would happen)."""
    with pg_rapp.app_context():
        offer_id = create_offer({"name": "Early access", "product": "P"}).id
        db.session.commit()
    make_rule(
        pg_rapp,
        event_types=[scoring.LEVEL_CHANGED],
        rewards=[{"kind": "offer", "offer_id": offer_id}],
    )
    consent(pg_rapp, "M-1")
    for i in range(10):
        send(pg_rapp, "review.published", "M-1", review(f"w{i}"), at=NOW)
    assert level_changes(pg_rapp, "M-1") == [("fan", "advocate", "pending")]
    consent(pg_rapp, "M-1", granted=False)
    settle(pg_rapp)
    assert level_changes(pg_rapp, "M-1") == [("fan", "advocate", "processed")]
    with pg_rapp.app_context():
        assert member_offers("M-1") == []
        event = db.session.scalars(
            db.select(ActivityEvent).where(ActivityEvent.type == scoring.LEVEL_CHANGED)
        ).one()
        assert "withdrawn" in event.outcome["withdrawn"]
