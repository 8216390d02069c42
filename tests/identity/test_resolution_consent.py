"""Identity resolution for social care, gated by consent that takes effect at once."""

from __future__ import annotations

import uuid

from loyalty_social.access.service import create_key
from loyalty_social.extensions import db
from loyalty_social.identity import service as identity

from .conftest import Browser, set_provider_user


def bearer(app, *scopes) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_key('test', list(scopes))}"}


def test_resolution_only_with_consent_and_no_leak(id_app, oidc_provider):
    subject = f"care-{uuid.uuid4().hex[:8]}"
    set_provider_user(oidc_provider, subject, preferred_username="Carla_Care")
    member = Browser(id_app, oidc_provider)
    member.arrive("M-care")
    member.link(subject)
    with id_app.app_context():
        identity.apply_update(identity.get_member("M-care"), "gold", None)
        db.session.commit()
    care, backend = bearer(id_app, "care"), bearer(id_app, "backend")
    client = id_app.test_client()

    unknown = client.get("/api/v1/identities/mock/nobody-here", headers=care)
    not_consented = client.get(f"/api/v1/identities/mock/{subject}", headers=care)
    assert unknown.status_code == not_consented.status_code == 404
    strip = lambda r: {k: v for k, v in r.json.items() if k != "instance"}  # noqa: E731
    assert strip(unknown) == strip(not_consented)

    granted = client.put(
        "/api/v1/members/M-care/consents/social_profile_matching",
        json={"granted": True},
        headers=backend,
    )
    assert granted.status_code == 200 and granted.json["granted"] is True
    found = client.get(f"/api/v1/identities/mock/{subject}", headers=care)
    assert found.status_code == 200
    assert found.json == {"member_id": "M-care", "tier": "gold", "priority": "high"}
    by_handle = client.get("/api/v1/identities/mock/@carla_care", headers=care)
    assert by_handle.json["member_id"] == "M-care"
    assert client.get(f"/api/v1/identities/mock/{subject}", headers=backend).status_code == 403

    # The member withdraws in the portal: the very next look-up finds nothing.
    page = member.page()
    assert "Withdraw" in page.text
    member.client.post(
        "/portal/consents/social_profile_matching",
        data={"csrf_token": member.csrf(), "granted": "0"},
    )
    gone = client.get(f"/api/v1/identities/mock/{subject}", headers=care)
    assert gone.status_code == 404 and strip(gone) == strip(unknown)

    history = client.get("/api/v1/members/M-care/consents", headers=backend).json
    assert [(h["action"], h["source"]) for h in history["history"]] == [
        ("granted", "backend"),
        ("withdrawn", "portal"),
    ]
    assert {c["purpose"]: c["granted"] for c in history["consents"]} == {
        "social_profile_matching": False,
        "targeted_rewards": False,
        "social_activity_use": False,
    }


def test_unlinked_identity_stays_as_history_only_with_consent(id_app, oidc_provider):
    from .test_linking import linked_rows

    subject = f"hist-{uuid.uuid4().hex[:8]}"
    member = Browser(id_app, oidc_provider)
    member.arrive("M-hist")
    member.client.post(
        "/portal/consents/social_profile_matching",
        data={"csrf_token": member.csrf(), "granted": "1"},
    )
    member.link(subject)
    member.unlink()
    assert linked_rows(id_app, "M-hist") == [("mock", subject, "unlinked", None)]
    care = bearer(id_app, "care")
    assert (
        id_app.test_client().get(f"/api/v1/identities/mock/{subject}", headers=care).status_code
        == 404
    )
    with id_app.app_context():
        row = db.session.execute(
            db.text(
                "SELECT access_token_enc, refresh_token_enc, email FROM social_account "
                "WHERE member_id = 'M-hist'"
            )
        ).one()
    assert row == (None, None, None)


def test_consent_api_validates(id_app):
    backend = bearer(id_app, "backend")
    client = id_app.test_client()
    assert (
        client.put(
            "/api/v1/members/M/consents/spam", json={"granted": True}, headers=backend
        ).status_code
        == 404
    )
    assert (
        client.put(
            "/api/v1/members/M/consents/targeted_rewards", json={}, headers=backend
        ).status_code
        == 422
    )
    assert client.get("/api/v1/members/M/consents").status_code == 401


def test_withdrawing_profile_matching_forgets_the_unlinked_history(id_app, oidc_provider):
    from .test_linking import linked_rows

    subject = f"forget-{uuid.uuid4().hex[:8]}"
    member = Browser(id_app, oidc_provider)
    member.arrive("M-forget")
    member.client.post(
        "/portal/privacy/social_profile_matching",
        data={"csrf_token": member.csrf("/portal/privacy"), "granted": "1"},
    )
    member.link(subject)
    member.unlink()
    assert linked_rows(id_app, "M-forget") == [("mock", subject, "unlinked", None)]
    member.client.post(
        "/portal/privacy/social_profile_matching",
        data={"csrf_token": member.csrf("/portal/privacy"), "granted": "0"},
    )
    assert linked_rows(id_app, "M-forget") == []
    with id_app.app_context():  # what the farming check needs stays: a keyed hash, no subject
        kept = db.session.execute(
            db.text("SELECT count(*) FROM identity_reward WHERE member_id = 'M-forget'")
        ).scalar()
    assert kept == 1
    with id_app.app_context():  # and the social.linked event that paid keeps only the hash
        data = db.session.execute(
            db.text(
                "SELECT data FROM activity_event WHERE type = 'social.linked' "
                "AND member_id = 'M-forget'"
            )
        ).scalar()
    assert subject not in str(data) and "hmac:" in str(data)
    # The member can link it again; nothing of the forgotten row is needed for that.
    member.link(subject)
    assert linked_rows(id_app, "M-forget") == [("mock", subject, "linked", None)]
