"""GET /api/v1/members/<id>/timeline on SQLite and PostgreSQL: every kind of item, newest
first; pages walked with the opaque cursor give every item once, also when many share one
timestamp; a bad cursor is 422 naming it; the backend scope is required."""

from datetime import timedelta

from loyalty_social.access.service import create_key
from loyalty_social.advocates.models import Click, ShareLink
from loyalty_social.extensions import db
from loyalty_social.identity.models import SocialAccount
from loyalty_social.ids import new_id
from loyalty_social.rewards.offers import create_offer
from loyalty_social.timeutil import utcnow

from ..rules.conftest import auth, make_rule, review, send
from .test_scoring import consent, settle

URL = "/api/v1/members/{}/timeline"


def history(app, member_id="M-1", clicks_at=None):
    """A member who linked an account, consented, was paid, became an advocate (and got an
    offer for it) and whose share link was clicked."""
    now = utcnow()
    with app.app_context():
        offer_id = create_offer({"name": "Early access", "product": "Boots"}).id
        db.session.commit()
    make_rule(app, name="reviews pay", rewards=[{"kind": "fixed", "points": 5}])
    make_rule(
        app,
        name="advocates",
        event_types=["advocate.level_changed"],
        rewards=[{"kind": "offer", "offer_id": offer_id}],
    )
    consent(app, member_id)
    for i in range(10):
        send(app, "review.published", member_id, review(f"t{i}"), at=now - timedelta(hours=1))
    settle(app)
    with app.app_context():
        db.session.add(
            SocialAccount(
                id=new_id("sa"),
                member_id=member_id,
                provider="x",
                subject="secret-subject",
                handle="dana",
                status="linked",
                linked_at=now - timedelta(days=3),
                updated_at=now,
            )
        )
        db.session.add(
            ShareLink(
                code="lnk1",
                member_id=member_id,
                target_url="https://shop.test/",
                target_hash="1" * 64,
                created_at=now,
                clicks=0,
                bot_clicks=0,
                repeat_clicks=0,
            )
        )
        db.session.flush()
        at = clicks_at or now
        for i in range(7):
            db.session.add(
                Click(
                    link_code="lnk1",
                    at=at,
                    agent="mobile",
                    visitor=f"v{i}",
                    referrer_host="social.test",
                    counted=i < 6,
                    bot=False,
                    repeat=i >= 6,
                )
            )
        db.session.commit()


def walk(client, headers, member_id="M-1", limit=3):
    items, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = client.get(URL.format(member_id), query_string=query, headers=headers)
        assert answer.status_code == 200, answer.json
        items += answer.json["items"]
        cursor = answer.json["next_cursor"]
        pages += 1
        if cursor is None:
            return items, pages


def test_the_timeline_holds_every_kind_newest_first_and_pages_cleanly(any_app):
    history(any_app)
    client = any_app.test_client()
    whole = client.get(URL.format("M-1"), query_string={"limit": 200}, headers=auth(any_app))
    assert whole.status_code == 200
    items = whole.json["items"]
    kinds = {item["kind"] for item in items}
    assert kinds == {
        "account_linked",
        "consent_granted",
        "activity",
        "award",
        "level_changed",
        "offer_granted",
        "click",
    }
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    level = next(i for i in items if i["kind"] == "level_changed")
    assert level["details"]["data"]["level"] == "advocate"
    account = next(i for i in items if i["kind"] == "account_linked")
    assert account["details"]["handle"] == "dana" and "secret-subject" not in str(items)
    clicks = [i for i in items if i["kind"] == "click"]
    assert len(clicks) == 7 and sum(c["details"]["counted"] for c in clicks) == 6
    assert "visitor" not in clicks[0]["details"]
    paged, pages = walk(client, auth(any_app), limit=3)
    assert [i["id"] for i in paged] == [i["id"] for i in items]
    assert pages == -(-len(items) // 3)


def test_items_with_one_timestamp_page_without_gaps_or_repeats(any_app):
    history(any_app, clicks_at=utcnow() - timedelta(hours=1))  # the reviews' time too
    client = any_app.test_client()
    for limit in (1, 2, 5):
        paged, _ = walk(client, auth(any_app), limit=limit)
        ids = [i["id"] for i in paged]
        assert len(ids) == len(set(ids))
        whole = client.get(URL.format("M-1"), query_string={"limit": 200}, headers=auth(any_app))
        assert ids == [i["id"] for i in whole.json["items"]]


def test_bad_cursors_scopes_and_an_empty_timeline(rapp):
    client = rapp.test_client()
    empty = client.get(URL.format("M-404"), headers=auth(rapp))
    assert empty.status_code == 200
    assert empty.json == {"member_id": "M-404", "items": [], "next_cursor": None}
    for cursor in ("nope", "1.click.abc", "1.evil.x", "9" * 17 + ".award.a", "1.award." + "a" * 41):
        bad = client.get(URL.format("M-1"), query_string={"cursor": cursor}, headers=auth(rapp))
        assert bad.status_code == 422, cursor
        assert bad.content_type == "application/problem+json"
        assert "cursor" in bad.json["errors"]["query"]
    with rapp.app_context():
        reader = create_key("reader", ["read"])
    denied = client.get(URL.format("M-1"), headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403
    assert client.get(URL.format("M-1")).status_code == 401
