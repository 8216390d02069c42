"""Consent purposes with versioned policy texts, the append-only evidence and what counts."""

from __future__ import annotations

import copy

import pytest

from loyalty_social.access.service import create_key
from loyalty_social.consent import policies, service
from loyalty_social.consent.models import ConsentEvent, ConsentPolicy
from loyalty_social.extensions import db
from loyalty_social.settings import load_settings

DEFAULTS = load_settings({"ENV": "testing"}).CONSENT_PURPOSES


def purposes(**changes) -> dict:
    """The default purposes with some options changed: {"targeted_rewards": {...}}."""
    configured = copy.deepcopy(DEFAULTS)
    for name, options in changes.items():
        configured[name].update(options)
    return configured


def bearer(app, *scopes) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_key('test', list(scopes))}"}


def test_purposes_come_from_config_with_plain_words_and_a_version(client, app):
    backend = bearer(app, "backend")
    listing = client.get("/api/v1/members/M-1/consents", headers=backend).json
    by_purpose = {c["purpose"]: c for c in listing["consents"]}
    assert list(by_purpose) == [
        "targeted_rewards",
        "social_profile_matching",
        "social_activity_use",
    ]
    for item in by_purpose.values():
        assert item["state"] == "not_asked" and item["granted"] is False
        assert item["policy_version"] == 1 and item["description"] and item["policy"]
    with app.app_context():
        assert [p.version for p in policies.versions("targeted_rewards")] == [1]


def test_every_change_is_evidence_and_the_state_follows_the_latest(client, app):
    backend = bearer(app, "backend")
    url = "/api/v1/members/M-2/consents/targeted_rewards"
    assert client.put(url, json={"granted": True, "actor": "agent-7"}, headers=backend).json[
        "state"
    ] == ("granted")
    assert client.put(url, json={"granted": False}, headers=backend).json["state"] == "withdrawn"
    listing = client.get("/api/v1/members/M-2/consents", headers=backend).json
    assert [
        (h["action"], h["source"], h["actor"], h["policy_version"]) for h in listing["history"]
    ] == [
        ("granted", "backend", "agent-7", 1),
        ("withdrawn", "backend", "test", 1),
    ]
    with app.app_context():
        assert service.has_consent("M-2", "targeted_rewards") is None
        assert db.session.query(ConsentEvent).count() == 2


def test_unknown_purpose_and_version_are_refused_and_nothing_is_written(client, app):
    backend = bearer(app, "backend")
    missing = client.put("/api/v1/members/M/consents/spam", json={"granted": True}, headers=backend)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    future = client.put(
        "/api/v1/members/M/consents/targeted_rewards",
        json={"granted": True, "policy_version": 2},
        headers=backend,
    )
    assert future.status_code == 422
    assert (
        future.json["type"].endswith("/validation-failed")
        and "policy_version" in future.json["errors"]
    )
    assert (
        client.put(
            "/api/v1/members/M/consents/targeted_rewards",
            json={"granted": True},
            headers=bearer(app, "read"),
        ).status_code
        == 403
    )
    with app.app_context():
        assert db.session.query(ConsentEvent).count() == 0


def test_changed_text_is_a_new_version_and_old_consent_carries_over_by_default(
    stack_config, make_app
):
    first = make_app(stack_config)
    with first.app_context():
        service.set_consent("M-3", "targeted_rewards", True, "backend", "test")
        db.session.commit()
    changed = make_app(
        stack_config | {"CONSENT_PURPOSES": purposes(targeted_rewards={"policy": "New words."})}
    )
    with changed.app_context():
        assert service.has_consent("M-3", "targeted_rewards") is not None
        db.session.commit()
        rows = policies.versions("targeted_rewards")
        assert [(r.version, r.requires_fresh_consent) for r in rows] == [(1, False), (2, False)]
        assert rows[1].text == "New words." and rows[0].text != rows[1].text
        state = next(c for c in service.consents("M-3") if c["purpose"] == "targeted_rewards")
        assert (state["state"], state["given_version"], state["policy_version"]) == (
            "granted",
            1,
            2,
        )
    # The same text again publishes nothing.
    again = make_app(
        stack_config | {"CONSENT_PURPOSES": purposes(targeted_rewards={"policy": "New words."})}
    )
    with again.app_context():
        assert policies.current_versions()["targeted_rewards"] == 2
        assert db.session.query(ConsentPolicy).filter_by(purpose="targeted_rewards").count() == 2


def test_version_requiring_fresh_consent_stops_old_consents_until_given_again(
    stack_config, make_app
):
    first = make_app(stack_config)
    with first.app_context():
        service.set_consent("M-4", "targeted_rewards", True, "portal", "M-4")
        service.set_consent("M-5", "targeted_rewards", True, "portal", "M-5")
        db.session.commit()
        assert set(service.current_grants(["M-4", "M-5"], "targeted_rewards")) == {"M-4", "M-5"}
    bumped = make_app(
        stack_config
        | {
            "CONSENT_PURPOSES": purposes(
                targeted_rewards={"policy": "Stricter words.", "requires_fresh_consent": True}
            )
        }
    )
    with bumped.app_context():
        assert service.current_grants(["M-4", "M-5"], "targeted_rewards") == {}
        db.session.commit()
        state = next(c for c in service.consents("M-4") if c["purpose"] == "targeted_rewards")
        assert (state["state"], state["granted"]) == ("renewal_needed", False)
        service.set_consent("M-4", "targeted_rewards", True, "portal", "M-4")
        db.session.commit()
        assert set(service.current_grants(["M-4", "M-5"], "targeted_rewards")) == {"M-4"}
    # A process still running the old text honours the new version at once (it is data).
    with first.app_context():
        assert set(service.current_grants(["M-4", "M-5"], "targeted_rewards")) == {"M-4"}


def test_a_version_published_in_a_rolled_back_transaction_is_published_again(
    stack_config, make_app
):
    app = make_app(
        stack_config | {"CONSENT_PURPOSES": purposes(social_activity_use={"policy": "v2 text"})}
    )
    with app.app_context():
        policies.current_versions()
        db.session.rollback()
        assert policies.current_versions()["social_activity_use"] == 1  # nothing was kept
        db.session.commit()
        assert [r.text for r in policies.versions("social_activity_use")] == ["v2 text"]


@pytest.mark.parametrize("key", ["description", "policy"])
def test_a_purpose_without_words_is_a_configuration_error(key):
    from loyalty_social.settings import SettingsError

    broken = purposes(targeted_rewards={key: " "})
    with pytest.raises(SettingsError, match=f"targeted_rewards.{key}"):
        load_settings({"ENV": "testing", "CONSENT_PURPOSES": broken})
