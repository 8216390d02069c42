"""Linking through a real OIDC provider: link, conflict, unlink, relink without double pay."""

from __future__ import annotations

import uuid

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from loyalty_social import crypto
from loyalty_social.extensions import db
from loyalty_social.rewards.service import balance

from ..helpers import drain, seed
from .conftest import Browser, set_provider_user


def sub() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def linked_rows(app, member_id):
    with app.app_context():
        return db.session.execute(
            sa.text(
                "SELECT provider, subject, status, handle FROM social_account "
                "WHERE member_id = :m ORDER BY linked_at"
            ),
            {"m": member_id},
        ).all()


def linked_events(app, member_id):
    with app.app_context():
        return db.session.execute(
            sa.text(
                "SELECT id FROM activity_event WHERE type = 'social.linked' AND member_id = :m"
            ),
            {"m": member_id},
        ).all()


def points(app, member_id) -> int:
    drain(app)
    with app.app_context():
        return balance(member_id)


def test_link_unlink_relink_pays_once(id_app, oidc_provider):
    seed(id_app, rules=(("social.linked", 100),))
    subject = sub()
    set_provider_user(
        oidc_provider,
        subject,
        name="Alice Example",
        preferred_username="Alice_H",
        email="alice@example.test",
        email_verified=True,
    )
    alice = Browser(id_app, oidc_provider)
    assert alice.arrive("M-alice").status_code == 303
    page = alice.page()
    assert "Link Mock ID" in page.text and "Linking earns 100 points" in page.text

    done = alice.link(subject)
    assert done.status_code == 303 and done.location.endswith("/portal/connections")
    page = alice.page()
    assert "Linked as Alice_H" in page.text and "Your Mock ID account is linked" in page.text
    assert linked_rows(id_app, "M-alice") == [("mock", subject, "linked", "Alice_H")]
    assert points(id_app, "M-alice") == 100

    assert alice.unlink().status_code == 303
    assert "Linked as" not in alice.page().text
    assert "already paid" in alice.page().text
    assert alice.link(subject).status_code == 303
    assert "Linked as Alice_H" in alice.page().text
    assert len(linked_events(id_app, "M-alice")) == 1
    assert points(id_app, "M-alice") == 100


def test_identity_linked_to_another_member_is_refused_and_nothing_changes(id_app, oidc_provider):
    subject = sub()
    alice, mallory = Browser(id_app, oidc_provider), Browser(id_app, oidc_provider)
    alice.arrive("M-a")
    assert alice.link(subject).status_code == 303
    mallory.arrive("M-m")
    refused = mallory.link(subject)
    assert refused.status_code == 409
    assert "already linked to another membership" in refused.text
    assert linked_rows(id_app, "M-a") == [("mock", subject, "linked", None)]
    assert linked_rows(id_app, "M-m") == []
    assert linked_events(id_app, "M-m") == []


def test_same_email_never_links(id_app, oidc_provider):
    """Two provider accounts with one verified email are two identities."""
    first, second = sub(), sub()
    for subject in (first, second):
        set_provider_user(oidc_provider, subject, email="shared@example.test", email_verified=True)
    alice = Browser(id_app, oidc_provider)
    alice.arrive("M-e1")
    alice.link(first)
    bob = Browser(id_app, oidc_provider)
    bob.arrive("M-e2")
    assert bob.link(second).status_code == 303
    assert linked_rows(id_app, "M-e2") == [("mock", second, "linked", None)]


def test_social_only_member_keeps_the_last_account(id_app, oidc_provider):
    keys = seed(id_app, rules=(), scopes=("backend",))
    member = Browser(id_app, oidc_provider)
    member.arrive("M-social", social_only=True)
    member.link(sub())
    page = member.page()
    assert "cannot be unlinked" in page.text and "disabled" in page.text
    refused = member.unlink()
    assert refused.status_code == 409 and "only way you sign in" in refused.text
    api = id_app.test_client().delete(
        "/api/v1/members/M-social/identities/mock", headers=keys["auth"]
    )
    assert api.status_code == 409
    assert api.json["type"].endswith("/last-sign-in-method")
    assert linked_rows(id_app, "M-social")[0][2] == "linked"

    # With another way in (the next assertion says so), the API may unlink it.
    Browser(id_app, oidc_provider).arrive("M-social", social_only=False)
    api = id_app.test_client().delete(
        "/api/v1/members/M-social/identities/mock", headers=keys["auth"]
    )
    assert api.status_code == 204
    assert linked_rows(id_app, "M-social") == []  # no consent to keep history: forgotten


def test_tokens_are_encrypted_at_rest(id_app, id_config, oidc_provider):
    subject = sub()
    member = Browser(id_app, oidc_provider)
    member.arrive("M-tok")
    member.link(subject)
    with id_app.app_context():
        raw_access, raw_refresh = db.session.execute(
            sa.text(
                "SELECT access_token_enc, refresh_token_enc FROM social_account "
                "WHERE member_id = 'M-tok'"
            )
        ).one()
        access = crypto.decrypt(raw_access)
        refresh = crypto.decrypt(raw_refresh)
    assert access not in raw_access and refresh not in raw_refresh
    # The stored token is the provider's real token ...
    userinfo = requests.get(
        f"{oidc_provider}/userinfo", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == subject
    # ... and nobody without the key reads it.
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(raw_access.encode())
