"""Access and erasure, acceptance: the export of a member who did everything holds every kind
of record; after erasure it holds nothing personal, the ledger totals are unchanged, the
database names the member nowhere, and re-sending every old webhook (same ids and new ids)
creates nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from loyalty_social import crypto
from loyalty_social.extensions import db
from loyalty_social.identity.models import SocialAccount

from ..helpers import drain
from .everything import MEMBER, do_everything, occurrences, send, setup_program, totals


def tokens(app) -> list[str]:
    with app.app_context():
        found = [
            crypto.decrypt(value)
            for account in db.session.scalars(db.select(SocialAccount))
            for value in (account.access_token_enc, account.refresh_token_enc)
            if value
        ]
        db.session.commit()
    assert found
    return found


def export(client, auth) -> dict:
    response = client.get(f"/api/v1/members/{MEMBER}/export", headers=auth)
    assert response.status_code == 200, response.text
    return response.json


def test_export_erasure_and_replayed_webhooks(id_app, oidc_provider):
    app = id_app
    client = app.test_client()
    program = setup_program(app)
    done = do_everything(app, oidc_provider, program)
    auth = program["auth"]

    records = export(client, auth)["records"]
    assert records["member"]["id"] == MEMBER
    [account] = records["identity"]["social_accounts"]
    assert account["subject"] == done["subject"] and account["tokens_stored"] is True
    assert not set(tokens(app)) & set(json.dumps(records).split('"'))  # never a token
    assert [f["kind"] for f in records["identity"]["flags"]] == ["repeat_link"]
    assert [e["action"] for e in records["consents"]["history"]] == [
        "granted",
        "granted",
        "withdrawn",
        "granted",
    ]
    types = sorted(e["type"] for e in records["events"])
    assert types == ["review.published", "social.linked", "social.mentioned", "social.shared"]
    review = next(e for e in records["events"] if e["type"] == "review.published")
    assert review["data"]["review_id"] == "rv-mine-1"
    statuses = sorted(a["status"] for a in records["rewards"]["awards"])
    assert statuses == ["granted", "granted", "held"]
    assert records["rewards"]["balance"]["points"] == 15
    assert sum(e["points"] for e in records["rewards"]["ledger"]) == 15
    [grant] = records["rewards"]["offer_grants"]
    assert grant["code"] in ("CODE-1", "CODE-2")
    assert records["limit_counters"]
    kinds = {(d["kind"], d.get("event_type")) for d in records["deliveries"]}
    assert {("event", "consent.changed"), ("event", "social.linked")} <= kinds
    assert ("award", None) in kinds
    assert records["portal_sessions"] and records["portal_sessions"][0]["ended_at"] is None

    before = totals(app)
    erased = client.post(f"/api/v1/members/{MEMBER}/erasure", headers=auth)
    assert erased.status_code == 200, erased.text
    counts = erased.json["counts"]
    assert erased.json["removed_now"] is True and erased.json["kind"] == "erasure"
    # oidc-provider-mock publishes no revocation endpoint: deleted, and recorded as such.
    assert counts["identity.tokens_unrevocable"] >= 1 and counts["identity.social_accounts"] == 1
    assert counts["rewards.ledger_entries"] == 2 and counts["member_row.member"] == 1
    assert counts["limit_counters.held_awards_rejected"] == 1

    after = export(client, auth)
    assert after["erased"] is True and [e["id"] for e in after["erasures"]] == [erased.json["id"]]
    assert after["records"]["member"] is None
    assert after["records"]["identity"] == {
        "social_accounts": [],
        "flags": [],
        "rewarded_identities": [],
    }
    assert after["records"]["consents"]["history"] == []
    assert {c["state"] for c in after["records"]["consents"]["current"]} == {"not_asked"}
    for part in ("events", "limit_counters", "deliveries", "portal_sessions"):
        assert after["records"][part] == [], part
    assert after["records"]["rewards"] == {
        "balance": None,
        "awards": [],
        "ledger": [],
        "offer_grants": [],
    }
    assert totals(app) == before  # the money stays, without the member
    assert occurrences(app, MEMBER, done["subject"], "rv-mine-1", "social.test/p/mine") == {}

    # The member's session is dead, and a new assertion opens nothing.
    assert done["browser"].page().status_code == 401
    assert done["browser"].arrive(MEMBER).status_code == 410

    # Every old webhook again, with its own id and with a new one: accepted, dropped.
    for body, webhook_id in done["sent"]:
        for reuse in (webhook_id, f"msg_{uuid.uuid4().hex}"):
            response, _, _ = send(client, program["secret"], body, reuse)
            assert response.status_code == 202, response.text
            assert response.json["status"] == "dropped" and response.json["id"] is None
    drain(app)
    assert occurrences(app, MEMBER, done["subject"]) == {}
    assert totals(app) == before

    # Consent for an erased member is refused; erasing again is harmless.
    refused = client.put(
        f"/api/v1/members/{MEMBER}/consents/targeted_rewards", json={"granted": True}, headers=auth
    )
    assert refused.status_code == 410 and refused.json["type"].endswith("/member-erased")
    again = client.post(f"/api/v1/members/{MEMBER}/erasure", headers=auth)
    assert again.status_code == 200 and again.json["removed_now"] is False
    assert again.json["id"] == erased.json["id"]
    listing = client.get("/api/v1/erasures", headers=auth).json["items"]
    assert [(e["id"], e["kind"]) for e in listing] == [(erased.json["id"], "erasure")]
    assert listing[0]["actor"] == "key:admin"
    assert MEMBER not in str(listing)
    audited = client.get("/api/v1/audit", query_string={"action": "member."}, headers=auth)
    assert [(r["action"], r["target_id"], r["actor"]) for r in audited.json["items"]] == [
        ("member.erasure", erased.json["id"], "key:admin")
    ]


@pytest.mark.parametrize(
    ("method", "path", "scope", "status"),
    [
        ("get", f"/api/v1/members/{MEMBER}/export", "read", 403),
        ("get", f"/api/v1/members/{MEMBER}/export", "backend", 200),
        ("post", f"/api/v1/members/{MEMBER}/erasure", "backend", 403),
        ("get", "/api/v1/erasures", "backend", 403),
        ("get", "/api/v1/erasures", "admin", 200),
    ],
)
def test_scopes(app, method, path, scope, status):
    from loyalty_social.access.service import create_key

    with app.app_context():
        key = create_key("t", [scope])
    response = getattr(app.test_client(), method)(path, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == status, response.text
