"""The admin pages (API keys, subscriptions, sources) through Flask's client: what an admin
creates works and is audited with the admin as the actor, a secret is shown only on the page
that answers the form, bad input is shown beside its field with nothing written, and the
lesser roles neither see the pages in the navigation nor open them. (Every form's CSRF and
role check is walked in test_forms.py.)"""

from __future__ import annotations

import re

import pytest

from loyalty_social.access.models import ApiKey
from loyalty_social.audit import service as audit_service
from loyalty_social.delivery.models import Delivery, Subscription
from loyalty_social.extensions import db
from loyalty_social.intake.models import Source
from loyalty_social.intake.sources import add_source
from loyalty_social.timeutil import utcnow

from ..helpers import envelope, signed

ADMIN_PAGES = ("/console/api-keys", "/console/subscriptions", "/console/sources")
TOKEN = re.compile(r'<code id="new-token">([^<]+)</code>')
SECRET = re.compile(r'<code id="new-secret">([^<]+)</code>')


@pytest.fixture
def app(sqlite_config, make_app):
    return make_app(sqlite_config)


def records(app, action: str) -> list:
    with app.app_context():
        found = audit_service.search(action=action)
        db.session.remove()
        return found


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def test_a_key_made_in_the_console_works_once_shown_and_stops_when_revoked(app, people, signed_in):
    admin = signed_in("admin")
    page = admin.post(
        "/console/api-keys",
        {"name": "  CRM sync ", "scopes": ["marketer", "read"]},
        page="/console/api-keys",
    )
    assert page.status_code == 200, page.text
    token = TOKEN.search(page.text).group(1)
    assert "shown only this once" in page.text
    key_id = token.split(".")[0]
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/identity-flags", headers=auth).status_code == 200

    listed = admin.get("/console/api-keys").text
    assert key_id in listed and "CRM sync" in listed and "marketer, read" in listed
    assert token.split(".")[1] not in listed  # never shown again
    (created,) = records(app, "apikey.created")
    assert created.actor == f"console:{people['admin']}"
    assert created.after == {"name": "CRM sync", "scopes": ["marketer", "read"]}
    assert token.split(".")[1] not in repr(created.after)

    revoked = admin.post(f"/console/api-keys/{key_id}/revoke", page="/console/api-keys")
    assert revoked.status_code == 303
    assert api.get("/api/v1/identity-flags", headers=auth).status_code == 401
    assert re.search(r"revoked \d{4}-\d\d-\d\d", admin.get("/console/api-keys").text)
    assert records(app, "apikey.revoked")[0].actor == f"console:{people['admin']}"
    missing = admin.post("/console/api-keys/key_nothing/revoke", page="/console/api-keys")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "", "scopes": ["read"]}, "name", "Give the key a name"),
        ({"name": "   ", "scopes": ["read"]}, "name", "Give the key a name"),
        ({"name": "x" * 201, "scopes": ["read"]}, "name", "at most 200 characters"),
        ({"name": "crm\x00sync", "scopes": ["read"]}, "name", "NUL character"),
        ({"name": "crm\nsync", "scopes": ["read"]}, "name", "control characters"),
        ({"name": "crm", "scopes": []}, "scopes", "Choose at least one scope"),
        ({"name": "crm", "scopes": ["read", "root"]}, "scopes", "Unknown scopes root"),
    ],
)
def test_a_bad_key_is_refused_beside_its_field_with_nothing_written(
    app, signed_in, form, field, message
):
    admin = signed_in("admin")
    page = admin.post("/console/api-keys", form, page="/console/api-keys")
    assert page.status_code == 422
    beside = re.search(rf'id="key-{field}-error"[^>]*>([^<]+)<', page.text)
    assert beside and message in beside.group(1), page.text
    assert 'aria-invalid="true"' in page.text and 'id="new-token"' not in page.text
    assert count(app, ApiKey) == 0 and records(app, "apikey.created") == []


def test_a_subscription_is_added_listed_with_its_failures_and_disabled(app, people, signed_in):
    admin = signed_in("admin")
    page = admin.post(
        "/console/subscriptions",
        {
            "url": "https://crm.example/hooks/loyalty",
            "event_types": ["award.created", "consent.changed"],
            "description": "CRM",
        },
        page="/console/subscriptions",
    )
    assert page.status_code == 200, page.text
    secret = SECRET.search(page.text).group(1)
    assert secret.startswith("whsec_")
    with app.app_context():
        (sub,) = db.session.scalars(db.select(Subscription)).all()
        sub_id = sub.id
        for n, status in enumerate(("dead", "failed", "delivered")):
            db.session.add(
                Delivery(
                    id=f"dlv_{n}",
                    target=sub_id,
                    kind="event",
                    idempotency_key=f"k{n}",
                    payload={},
                    status=status,
                    attempts=1,
                    next_attempt_at=utcnow(),
                    give_up_at=utcnow(),
                    created_at=utcnow(),
                )
            )
        db.session.commit()
    listed = admin.get("/console/subscriptions").text
    row = re.search(
        r"<tr>\s*<td><code>https://crm.example/hooks/loyalty</code>.*?</tr>", listed, re.S
    )
    assert row and "award.created, consent.changed" in row.group(0)
    assert "<td>enabled</td>" in row.group(0) and "<td>2</td>" in row.group(0)  # gave up
    assert secret not in listed
    (created,) = records(app, "subscription.created")
    assert created.actor == f"console:{people['admin']}"

    done = admin.post(f"/console/subscriptions/{sub_id}/disable", page="/console/subscriptions")
    assert done.status_code == 303
    assert "<td>disabled</td>" in admin.get("/console/subscriptions").text
    assert records(app, "subscription.disabled")[0].actor == f"console:{people['admin']}"
    gone = admin.post("/console/subscriptions/sub_nothing/disable", page="/console/subscriptions")
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"url": "ftp://crm.example/x", "event_types": ["award.created"]}, "url", "match"),
        ({"url": "", "event_types": ["award.created"]}, "url", "Length must be"),
        ({"url": "https://crm.example/\x00", "event_types": ["award.created"]}, "url", "NUL"),
        ({"url": "https://crm.example/x", "event_types": []}, "types", "Shorter than"),
        ({"url": "https://crm.example/x", "event_types": ["award.exploded"]}, "types", "one of"),
        (
            {
                "url": "https://crm.example/x",
                "event_types": ["award.created"],
                "description": "d" * 501,
            },
            "description",
            "Longer than maximum",
        ),
    ],
)
def test_a_bad_subscription_is_refused_beside_its_field(app, signed_in, form, field, message):
    admin = signed_in("admin")
    page = admin.post("/console/subscriptions", form, page="/console/subscriptions")
    assert page.status_code == 422
    beside = re.search(rf'id="sub-{field}-error"[^>]*>([^<]+)<', page.text)
    assert beside and message in beside.group(1), page.text
    assert count(app, Subscription) == 0 and records(app, "subscription.created") == []


def test_a_private_address_is_refused_by_the_service_as_in_the_api(app, signed_in):
    """The URL rule is the service's (``targets.check_url``), not a copy in the console."""
    app.config["ALLOW_PRIVATE_TARGETS"] = False
    admin = signed_in("admin")
    form = {"url": "http://127.0.0.1:8080/hook", "event_types": ["award.created"]}
    page = admin.post("/console/subscriptions", form, page="/console/subscriptions")
    assert page.status_code == 422
    beside = re.search(r'id="sub-url-error"[^>]*>([^<]+)<', page.text)
    assert beside and "private targets are not called" in beside.group(1)
    assert count(app, Subscription) == 0


def test_a_source_is_added_with_its_secret_shown_once(app, people, signed_in):
    admin = signed_in("admin")
    form = {"name": "reviews", "max_evidence": "claimed", "rate_limit": "2.5", "rate_burst": "10"}
    page = admin.post("/console/sources", form, page="/console/sources")
    assert page.status_code == 200, page.text
    secret = SECRET.search(page.text).group(1)
    listed = admin.get("/console/sources").text
    assert "<td>reviews</td>" in listed and "<td>2.5</td>" in listed and secret not in listed
    (created,) = records(app, "source.created")
    assert created.actor == f"console:{people['admin']}"
    assert created.after["max_evidence"] == "claimed" and created.after["rate_burst"] == 10
    again = admin.post("/console/sources", form, page="/console/sources")
    assert again.status_code == 422 and "already exists" in again.text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "", "max_evidence": "verified"}, "name", "a source name is"),
        ({"name": "re views", "max_evidence": "verified"}, "name", "a source name is"),
        ({"name": "a\x00b", "max_evidence": "verified"}, "name", "NUL character"),
        ({"name": "r" * 65, "max_evidence": "verified"}, "name", "at most 64"),
        ({"name": "reviews", "max_evidence": "sworn"}, "max_evidence", "must be one of"),
        (
            {"name": "reviews", "max_evidence": "verified", "rate_limit": "fast"},
            "rate_limit",
            "number",
        ),
        (
            {"name": "reviews", "max_evidence": "verified", "rate_limit": "0"},
            "rate_limit",
            "above 0",
        ),
        (
            {"name": "reviews", "max_evidence": "verified", "rate_burst": "1.5"},
            "rate_burst",
            "whole",
        ),
        (
            {"name": "reviews", "max_evidence": "verified", "rate_burst": "0"},
            "rate_burst",
            "1 or more",
        ),
        ({"name": "reviews", "max_evidence": "verified", "public_key": "whpk_x"}, "public_key", ""),
    ],
)
def test_a_bad_source_is_refused_beside_its_field(app, signed_in, form, field, message):
    admin = signed_in("admin")
    page = admin.post("/console/sources", form, page="/console/sources")
    assert page.status_code == 422
    beside = re.search(rf'id="src-{field}-error"[^>]*>([^<]+)<', page.text)
    assert beside and message in beside.group(1), page.text
    assert count(app, Source) == 0 and records(app, "source.created") == []


def test_a_disabled_source_is_refused_as_an_unknown_one_until_enabled(
    app, people, signed_in, client
):
    admin = signed_in("admin")
    form = {"name": "reviews", "max_evidence": "claimed"}
    secret = SECRET.search(admin.post("/console/sources", form, page="/console/sources").text)

    def send(source: str = "reviews"):
        raw, headers = signed(secret.group(1), envelope())
        return client.post(f"/webhooks/{source}", data=raw, headers=headers)

    assert send().status_code == 202
    listed = admin.get("/console/sources").text
    assert 'aria-label="Disable reviews"' in listed and 'data-confirm="Disable the source' in listed
    disabled = admin.post("/console/sources/reviews/disable", page="/console/sources")
    assert disabled.status_code == 303
    refused, unknown = send(), send("nobody")
    assert refused.status_code == unknown.status_code == 404
    assert refused.mimetype == "application/problem+json"
    assert refused.json["type"] == unknown.json["type"]
    assert refused.json["type"].endswith("/unknown-source")
    row = re.search(r"<tr>\s*<td>reviews</td>.*?</tr>", admin.get("/console/sources").text, re.S)
    assert "<td>no</td>" in row.group(0) and 'aria-label="Enable reviews"' in row.group(0)
    (disabled,) = records(app, "source.disabled")
    assert disabled.actor == f"console:{people['admin']}"
    assert (disabled.before, disabled.after) == ({"enabled": True}, {"enabled": False})
    admin.post("/console/sources/reviews/disable", page="/console/sources")  # a repeat
    assert len(records(app, "source.disabled")) == 1

    enabled = admin.post("/console/sources/reviews/enable", page="/console/sources")
    assert enabled.status_code == 303
    assert send().status_code == 202
    assert records(app, "source.enabled")[0].actor == f"console:{people['admin']}"
    for change in ("enable", "disable"):
        missing = admin.post(f"/console/sources/nobody/{change}", page="/console/sources")
        assert missing.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "editor", "approver"])
def test_lesser_roles_neither_see_nor_open_the_admin_pages(app, signed_in, role):
    browser = signed_in(role)
    home = browser.get("/console/").text
    for label in ("API keys", "Subscriptions", "Sources"):
        assert f">{label}</a>" not in home
    for path in ADMIN_PAGES:
        page = browser.get(path)
        assert page.status_code == 403 and "This needs the admin role." in page.text
    refused = browser.post("/console/api-keys", {"name": "x", "scopes": ["admin"]})
    assert refused.status_code == 403 and count(app, ApiKey) == 0
    with app.app_context():
        add_source("reviews")
    for change in ("disable", "enable"):
        assert browser.post(f"/console/sources/reviews/{change}").status_code == 403
    with app.app_context():
        assert db.session.get(Source, "reviews").enabled is True
    assert records(app, "source.disabled") == []


def test_the_admin_sees_the_pages_in_the_navigation(app, signed_in):
    home = signed_in("admin").get("/console/").text
    for path, label in zip(ADMIN_PAGES, ("API keys", "Subscriptions", "Sources"), strict=True):
        assert f'href="{path}">{label}</a>' in home
