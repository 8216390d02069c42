"""The portal's privacy page in headless Chromium against the app under its production server:
a policy version that needs fresh consent stops targeted rewards until the member agrees again."""

from __future__ import annotations

import copy
import json
import re
import uuid

import requests
import sqlalchemy as sa

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.intake.sources import add_source
from loyalty_social.rules import explanations
from loyalty_social.rules.service import create_rule

from ..helpers import envelope, signed, wait_until
from ..identity.conftest import PORTAL, PORTAL_SECRET, member_assertion
from .test_consent_model import DEFAULTS

MEMBER = "M-privacy"
PORTAL_SETTINGS = {"PORTAL_SHARED_SECRET": PORTAL_SECRET, "PORTAL_RETURN_URLS": f"{PORTAL}/"}


def send_share(server, secret: str) -> str:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    raw, headers = signed(secret, envelope("social.shared", MEMBER), webhook_id)
    response = requests.post(
        f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10
    )
    assert response.status_code == 202, response.text
    return webhook_id


def outcome(app, webhook_id: str) -> tuple[int, set[str]]:
    """Points paid for the event once processed, and the codes its rules' records carry."""

    def processed():
        with app.app_context():
            event = db.session.scalars(
                sa.select(ActivityEvent).where(ActivityEvent.webhook_id == webhook_id)
            ).first()
            if event is None or event.status != "processed":
                db.session.commit()
                return None
            result = (
                sum(a["points"] for a in event.outcome.get("awards", [])),
                {r.get("code") for r in explanations.event_records(event)},
            )
            db.session.commit()
            return result

    return wait_until(processed)


def assert_refused(app, webhook_id: str) -> None:
    paid, codes = outcome(app, webhook_id)
    assert paid == 0 and "consent" in codes, codes


def open_privacy(chromium, server):
    page = chromium.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/portal/start?assertion={member_assertion(MEMBER)}")
    page.goto(f"{server.url}/portal/privacy")
    return page


def test_fresh_consent_stops_targeted_rewards_until_given_again_in_the_portal(
    sqlite_config,
    make_app,
    serve,
    chromium,
):
    config = sqlite_config | PORTAL_SETTINGS
    app = make_app(config)
    with app.app_context():
        secret = add_source("backend", max_evidence="verified")
        create_rule(
            {
                "name": "tailored share bonus",
                "event_types": ["social.shared"],
                "rewards": [{"kind": "fixed", "points": 10}],
                "targeted": True,
            },
            actor="tests",
            status="active",
        )
    server = serve(config)
    page = open_privacy(chromium, server)
    card = page.locator("#consent-targeted_rewards")
    assert card.get_attribute("data-state") == "not_asked"
    assert page.get_by_role("heading", name="Targeted rewards").is_visible()
    assert_refused(app, send_share(server, secret))

    # Keyboard only: focus the toggle and press Enter.
    card.get_by_role("button", name="Give consent: Targeted rewards").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#notice")
    assert page.locator("#notice").inner_text() == "Targeted rewards: consent given."
    assert card.get_attribute("data-state") == "granted"
    assert outcome(app, send_share(server, secret))[0] == 10
    page.close()
    server.stop()

    # The operator changes the policy text and asks for fresh consent.
    purposes = copy.deepcopy(DEFAULTS)
    purposes["targeted_rewards"].update(
        policy="We now also use the hashtags you post to choose rewards for you.",
        requires_fresh_consent=True,
    )
    server = serve(config | {"CONSENT_PURPOSES": json.dumps(purposes)})
    assert_refused(app, send_share(server, secret))

    page = open_privacy(chromium, server)
    card = page.locator("#consent-targeted_rewards")
    assert card.get_attribute("data-state") == "renewal_needed"
    assert "needs your fresh consent" in card.locator(".state").inner_text()
    card.locator("summary").click()
    assert "hashtags" in card.locator("details").inner_text()
    assert "version 2" in card.locator("summary").inner_text()
    card.get_by_role("button", name="Give consent: Targeted rewards").click()
    page.wait_for_selector("#notice")
    assert card.get_attribute("data-state") == "granted"
    assert outcome(app, send_share(server, secret))[0] == 10

    # Withdrawing is the same single click; the history shows every decision with its version.
    card.get_by_role("button", name="Withdraw consent: Targeted rewards").click()
    page.wait_for_selector("#notice")
    assert page.locator("#notice").inner_text() == "Targeted rewards: consent withdrawn."
    assert card.get_attribute("data-state") == "withdrawn"
    assert_refused(app, send_share(server, secret))
    rows = page.locator("#history tbody tr").all_inner_texts()
    assert [r.split("\t")[1:] for r in rows] == [
        ["Targeted rewards", "Withdrawn", "2", "on this page"],
        ["Targeted rewards", "Given", "2", "on this page"],
        ["Targeted rewards", "Given", "1", "on this page"],
    ]
    page.close()


def test_privacy_page_needs_a_session_and_a_valid_form(sqlite_config, make_app):
    client = make_app(sqlite_config | PORTAL_SETTINGS).test_client()
    assert client.get("/portal/privacy").status_code == 401
    client.get("/portal/start", query_string={"assertion": member_assertion(MEMBER)})
    page = client.get("/portal/privacy")
    assert page.status_code == 200 and "No choices recorded yet." in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    no_token = client.post("/portal/privacy/targeted_rewards", data={"granted": "1"})
    assert no_token.status_code == 400
    unknown = client.post("/portal/privacy/spam", data={"granted": "1", "csrf_token": csrf})
    assert unknown.status_code == 404
    assert "No choices recorded yet." in client.get("/portal/privacy").text
