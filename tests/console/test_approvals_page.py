"""The approvals page: held awards with the reason they were held, decided one at a time or
in bulk by an approver; a targeted award whose member does not consent now stays held and the
page says why (the consent check happens at approval, as in the API)."""

from __future__ import annotations

import copy

import pytest

from loyalty_social.consent import service as consent
from loyalty_social.extensions import db
from loyalty_social.rewards.models import Award
from loyalty_social.settings import load_settings

from ..helpers import seed
from ..rules.conftest import (
    auth,
    balance,
    make_rule,
    review,
    send,
)
from .conftest import PEOPLE, ConsoleClient, add_people


@pytest.fixture
def rapp(sqlite_config, make_app):
    """The rules tests' app: a source and an API key with every marketer scope."""
    app = make_app(sqlite_config)
    app.config["SEEDED"] = seed(app, rules=(), scopes=("marketer", "read", "backend", "admin"))
    return app


def held_awards(app) -> list[str]:
    """Three held awards for M-1: two plain ones and one targeted (with consent now)."""
    make_rule(
        app, name="Big reviews", rewards=[{"kind": "fixed", "points": 50}], hold={"above_points": 1}
    )
    make_rule(
        app,
        name="Targeted shares",
        event_types=["social.shared"],
        targeted=True,
        rewards=[{"kind": "fixed", "points": 30}],
        hold={"above_points": 1},
    )
    client = app.test_client()
    consent_url = "/api/v1/members/M-1/consents/targeted_rewards"
    assert client.put(consent_url, json={"granted": True}, headers=auth(app)).status_code == 200
    held = []
    for n in range(2):
        held += [h["award_id"] for h in send(app, "review.published", data=review(f"r{n}"))["held"]]
    shared = send(app, "social.shared", data={"network": "x", "url": "https://ex.test/1"})
    held += [h["award_id"] for h in shared["held"]]
    assert len(held) == 3
    return held


def signed_in_as(app, role):
    browser = ConsoleClient(app)
    assert browser.login(PEOPLE[role]).status_code == 303
    return browser


def test_held_awards_are_listed_with_why_and_decided_singly_and_in_bulk(
    rapp,
    sqlite_config,
    make_app,
):
    first, second, targeted = held_awards(rapp)
    # The consent policy changes and needs fresh consent: the targeted award cannot pay now.
    purposes = copy.deepcopy(load_settings({"ENV": "testing"}).CONSENT_PURPOSES)
    purposes["targeted_rewards"].update(policy="Stricter.", requires_fresh_consent=True)
    app = make_app(sqlite_config | {"CONSENT_PURPOSES": purposes})
    add_people(app)

    viewer = signed_in_as(app, "viewer")
    page = viewer.get("/console/approvals").text
    assert "held for review: 50 points is above the rule" in page and "Big reviews" in page
    assert 'name="award_id"' not in page and "Approve selected" not in page  # no controls

    approver = signed_in_as(app, "approver")
    one = approver.client.post(
        f"/console/approvals?one={first}",
        data={
            "csrf_token": approver.csrf("/console/approvals"),
            "decision": "approve",
            "award_id": [first, second],
        },
    )
    assert one.status_code == 200 and f"{first}: paid 50 points." in one.text
    assert balance(app) == 50  # only the row's own award

    bulk = approver.client.post(
        "/console/approvals",
        data={
            "csrf_token": approver.csrf("/console/approvals"),
            "decision": "approve",
            "award_id": [second, targeted],
        },
    )
    assert f"{second}: paid 50 points." in bulk.text
    assert "does not consent to targeted rewards now" in bulk.text
    with app.app_context():
        assert db.session.get(Award, targeted).status == "held"
    assert balance(app) == 100

    no_reason = approver.client.post(
        "/console/approvals",
        data={
            "csrf_token": approver.csrf("/console/approvals"),
            "decision": "reject",
            "award_id": [targeted],
        },
    )
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    rejected = approver.client.post(
        "/console/approvals",
        data={
            "csrf_token": approver.csrf("/console/approvals"),
            "decision": "reject",
            "award_id": [targeted],
            "reason": "Campaign cancelled",
        },
    )
    assert f"{targeted}: rejected." in rejected.text
    with app.app_context():
        award = db.session.get(Award, targeted)
        assert (award.status, award.reason) == ("rejected", "Campaign cancelled")
        assert award.decided_by.startswith("console:")
    assert "No award is waiting for approval." in approver.get("/console/approvals").text


def test_a_targeted_award_pays_once_the_member_consents_again(
    rapp,
    sqlite_config,
    make_app,
):
    *_, targeted = held_awards(rapp)
    purposes = copy.deepcopy(load_settings({"ENV": "testing"}).CONSENT_PURPOSES)
    purposes["targeted_rewards"].update(policy="Stricter.", requires_fresh_consent=True)
    app = make_app(sqlite_config | {"CONSENT_PURPOSES": purposes})
    add_people(app)
    approver = signed_in_as(app, "approver")
    form = {"decision": "approve"}
    refused = approver.post(f"/console/approvals?one={targeted}", form, page="/console/approvals")
    assert refused.status_code == 409
    with app.app_context():
        consent.set_consent("M-1", "targeted_rewards", True, "portal", "M-1")
        db.session.commit()
    paid = approver.post(f"/console/approvals?one={targeted}", form, page="/console/approvals")
    assert paid.status_code == 200 and f"{targeted}: paid 30 points." in paid.text
