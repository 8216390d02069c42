"""Early-access offers: inventory, codes, once per member, expiry, listing, redemption."""

from datetime import timedelta

from loyalty_social.extensions import db
from loyalty_social.rewards.models import OfferGrant

from .conftest import auth, make_rule, review, send


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
