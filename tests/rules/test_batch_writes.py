"""A batch on PostgreSQL: what its rules ask of each member (consent, linked networks) is read
once for the whole batch, and its writes stream in chunks while it evaluates (pipeline mode),
with the same results as one event at a time: awards, ledger, balances, outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from loyalty_social.consent.service import set_consent
from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.identity.models import SocialAccount
from loyalty_social.ids import new_id
from loyalty_social.rewards.models import Award, LedgerEntry
from loyalty_social.rules import processing

from .conftest import T0, balance, make_rule, outcome, process, review, send, store


def link(app, member_id: str, provider: str) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(
            SocialAccount(
                id=new_id("sa"),
                member_id=member_id,
                provider=provider,
                subject=f"{member_id}-{provider}",
                status="linked",
                linked_at=now,
                updated_at=now,
            )
        )
        db.session.commit()


def run_watching_statements(app, ids) -> list[str]:
    """Process ``ids`` as one batch; the SQL statements that went through SQLAlchemy."""
    statements = []
    with app.app_context():
        engine = db.engine

        def watch(_conn, _cursor, statement, *_):
            statements.append(statement)

        sa_event.listen(engine, "before_cursor_execute", watch)
        try:
            process(app, *ids)
        finally:
            sa_event.remove(engine, "before_cursor_execute", watch)
    return statements


def test_targeted_rule_on_linked_members_in_one_streamed_batch(pg_rapp, monkeypatch):
    app = pg_rapp
    rule_id = make_rule(
        app,
        targeted=True,
        conditions={"field": "member.linked_networks", "op": "contains", "value": "x"},
    )
    # A: consented and linked (paid); B: consented, not linked; C: linked, no consent; D: neither.
    for member_id in ("A", "B", "C", "D"):
        send(app, "member.updated", member_id, data={"attributes": {"segment": 1}})
    with app.app_context():
        set_consent("A", "targeted_rewards", True, "portal")
        set_consent("B", "targeted_rewards", True, "portal")
        db.session.commit()
    link(app, "A", "x")
    link(app, "C", "x")
    ids = [
        store(app, "review.published", member_id, data=review(f"{member_id}{i}"), at=T0)
        for i in range(3)
        for member_id in ("A", "B", "C", "D")
    ]
    monkeypatch.setattr(processing, "WRITE_CHUNK", 4)  # three chunks, one A event in each

    statements = run_watching_statements(app, ids)
    reads = [s for s in statements if "FROM consent_record" in s or "FROM social_account" in s]
    # one query each for the whole batch, not one per member: consent to targeted rewards,
    # linked networks, and consent to social activity use (the advocate score's reviews)
    assert len(reads) == 3
    # Streamed: the awards went to the driver's pipeline, not through SQLAlchemy.
    assert not [s for s in statements if s.startswith("INSERT INTO award")]
    results = {event_id: outcome(app, event_id) for event_id in ids}
    codes = {
        (member_id, i): _code(results[ids[4 * i + k]], rule_id)
        for k, member_id in enumerate("ABCD")
        for i in range(3)
    }
    assert {codes[("A", i)] for i in range(3)} == {"paid"}
    assert {codes[("B", i)] for i in range(3)} == {"condition"}
    assert {codes[("C", i)] for i in range(3)} == {"consent"}
    assert {codes[("D", i)] for i in range(3)} == {"condition"}

    assert balance(app, "A") == 30
    assert [balance(app, m) for m in "BCD"] == [0, 0, 0]
    with app.app_context():
        awards = list(db.session.scalars(select(Award).where(Award.event_id.in_(ids))))
        assert len(awards) == 3 and {a.member_id for a in awards} == {"A"}
        assert all("targeted_rewards" in a.consent_ref for a in awards)
        award_ids = {a.id for a in awards}
        ledger = db.session.scalars(
            select(LedgerEntry.award_id).where(LedgerEntry.member_id == "A")
        )
        assert set(ledger) == award_ids
        outbox = db.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.award_id.in_(award_ids))
        )
        assert outbox == 3


def _code(result: dict, rule_id: str) -> str:
    if any(a["rule_id"] == rule_id for a in result["awards"]):
        return "paid"
    for record in result["explanations"]:
        if record["rule_id"] == rule_id:
            return record["code"]
    for entry in result["not_matched"]:
        if entry[0] == rule_id:
            return "condition"
    raise AssertionError(f"{rule_id} not explained in {result}")


def test_a_batch_with_a_removal_is_not_streamed_and_still_claws_back(pg_rapp):
    """A removal reverses awards (which reads them), so that batch's writes are not streamed;
    the batch still pays its other events and claws back the removed review."""
    app = pg_rapp
    make_rule(app)
    first = send(app, "review.published", "R", data=review("gone"))
    assert balance(app, "R") == 10
    other = store(app, "review.published", "R", data=review("stays"), at=T0 + timedelta(minutes=1))
    removed = store(
        app,
        "review.removed",
        "R",
        data={"review_id": "gone", "platform": "trustreviews"},
        at=T0 + timedelta(minutes=2),
    )
    statements = run_watching_statements(app, [other, removed])
    assert [s for s in statements if s.startswith("INSERT INTO award")]  # one by one
    assert outcome(app, removed)["reversed"] == [first["awards"][0]["award_id"]]
    assert len(outcome(app, other)["awards"]) == 1
    assert balance(app, "R") == 10
