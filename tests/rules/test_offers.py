"""Early-access offers: inventory, codes, once per member, expiry, listing, redemption."""

from datetime import timedelta

from loyalty_social.extensions import db
from loyalty_social.rewards.models import Award, OfferGrant

from .conftest import auth, make_rule, outcome, process, review, send, store


def _offer(client, app, **extra):
    body = {"name": "Early access", "product": "Lamp 2", **extra}
    response = client.post("/api/v1/offers", json=body, headers=auth(app))
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_inventory_codes_and_one_per_member(rapp):
    client = rapp.test_client()
    offer_id = _offer(client, rapp, inventory=2, uses_codes=True, grant_ttl_seconds=3600)
    imported = client.post(
        f"/api/v1/offers/{offer_id}/codes",
        json={"codes": ["A1", "A2", "A3", "A1"]},
        headers=auth(rapp),
    ).json
    assert imported == {"added": 3, "free": 3}
    make_rule(rapp, rewards=[{"kind": "offer", "offer_id": offer_id}])
    for i, member in enumerate(["M-1", "M-1", "M-2", "M-3"]):
        send(rapp, "review.published", member, review(f"r{i}"))
    with rapp.app_context():
        grants = list(db.session.scalars(db.select(OfferGrant).order_by(OfferGrant.granted_at)))
        assert sorted(g.member_id for g in grants) == ["M-1", "M-2"]  # once each; 2 in stock
        codes = [g.code for g in grants]
        assert len(set(codes)) == 2 and set(codes) <= {"A1", "A2", "A3"}
    mine = client.get("/api/v1/members/M-1/offers", headers=auth(rapp)).json["items"]
    assert [(o["product"], o["status"]) for o in mine] == [("Lamp 2", "granted")]
    redeemed = client.post(f"/api/v1/members/M-1/offers/{mine[0]['id']}/redeem", headers=auth(rapp))
    assert redeemed.status_code == 200 and redeemed.json["status"] == "redeemed"
    again = client.post(f"/api/v1/members/M-1/offers/{mine[0]['id']}/redeem", headers=auth(rapp))
    assert again.status_code == 409
    offer = client.get(f"/api/v1/offers/{offer_id}", headers=auth(rapp)).json
    assert offer["granted_count"] == 2


def test_expired_grant_cannot_be_redeemed(rapp):
    client = rapp.test_client()
    offer_id = _offer(client, rapp, grant_ttl_seconds=60)
    make_rule(
        rapp, rewards=[{"kind": "fixed", "points": 5}, {"kind": "offer", "offer_id": offer_id}]
    )
    result = send(rapp, "review.published", data=review("a"))
    assert result["awards"][0]["points"] == 5
    with rapp.app_context():
        grant = db.session.scalars(db.select(OfferGrant)).one()
        grant.expires_at = grant.granted_at - timedelta(seconds=1)
        db.session.commit()
        grant_id = grant.id
    listed = client.get("/api/v1/members/M-1/offers", headers=auth(rapp)).json["items"]
    assert listed[0]["status"] == "expired"
    refused = client.post(f"/api/v1/members/M-1/offers/{grant_id}/redeem", headers=auth(rapp))
    assert refused.status_code == 409


def test_a_rule_cannot_name_a_missing_offer(rapp):
    client = rapp.test_client()
    doc = {
        "name": "x",
        "event_types": ["review.published"],
        "rewards": [{"kind": "offer", "offer_id": "ofr_nope"}],
    }
    response = client.post("/api/v1/rules", json=doc, headers=auth(rapp))
    assert response.status_code == 409
    assert response.json["type"].endswith("/rule-reference-missing")
    assert "/rewards/0/offer_id" in response.json["errors"]


def _member_words(client, app, member_id, event_id) -> dict:
    return client.get(
        f"/api/v1/members/{member_id}/events/{event_id}/explanation", headers=auth(app)
    ).json


def test_a_sold_out_offer_is_said_sold_out_never_paid(any_app):
    app = any_app
    client = app.test_client()
    lamp = _offer(client, app, inventory=1)
    only_offer = _offer(client, app, name="Preview", product="Lamp 3", inventory=1)
    both = make_rule(
        app,
        name="points and lamp",
        rewards=[{"kind": "fixed", "points": 5}, {"kind": "offer", "offer_id": lamp}],
    )
    offer_only = make_rule(app, name="preview", rewards=[{"kind": "offer", "offer_id": only_offer}])
    first = send(app, "review.published", "M-1", review("r1"))
    assert sorted(a["rule_id"] for a in first["awards"]) == sorted([both, offer_only])
    # The last units went to M-1: M-2 gets the points, and the truth about the offers.
    second = send(app, "review.published", "M-2", review("r2"))
    [paid] = second["awards"]
    assert paid["rule_id"] == both and paid["points"] == 5
    records = {r["rule_id"]: r for r in second["explanations"]}
    assert "sold out" in records[both]["reason"] and "paid 5 points" in records[both]["reason"]
    assert records[both]["offers_refused"] == {lamp: "the offer “Early access” is sold out"}
    assert "offers" not in records[both]
    assert records[offer_only]["result"] == "skipped"
    assert records[offer_only]["reason"] == "the offer “Preview” is sold out"
    assert [s["rule_id"] for s in second["skipped"]] == [offer_only]
    with app.app_context():
        award = db.session.get(Award, paid["award_id"])
        assert award.details["offers"] == []
        assert award.details["offers_refused"] == {lamp: "the offer “Early access” is sold out"}
        holders = db.session.scalars(db.select(OfferGrant.member_id)).all()
        assert holders == ["M-1", "M-1"]
    words = {
        r["rule_id"]: r["message"] for r in _member_words(client, app, "M-2", second["id"])["rules"]
    }
    assert words[both] == (
        "You earned 5 points from “points and lamp”. But the offer “Early access” is sold out."
    )
    assert words[offer_only] == "“preview”: the offer “Preview” is sold out."
    assert "earned" not in words[offer_only]


def test_sold_out_within_one_batch(any_app):
    app = any_app
    client = app.test_client()
    lamp = _offer(client, app, inventory=2)
    rule_id = make_rule(app, rewards=[{"kind": "offer", "offer_id": lamp}])
    ids = [store(app, "review.published", f"M-{i}", review(f"b{i}")) for i in range(4)]
    process(app, *ids)
    results = [outcome(app, event_id) for event_id in ids]
    assert [len(r["awards"]) for r in results] == [1, 1, 0, 0]
    assert [r["skipped"] for r in results[2:]] == [
        [{"rule_id": rule_id, "reason": "the offer “Early access” is sold out"}]
    ] * 2
