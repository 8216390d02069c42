"""A subscriber receives signed consent.changed, social.linked and social.unlinked events,
verified with the reference standardwebhooks library, over real HTTP."""

from __future__ import annotations

import json
import uuid

from standardwebhooks import Webhook

from loyalty_social.access.service import create_key
from loyalty_social.queue import stop_in_process

from ..delivery.conftest import FAST
from ..delivery.standin import StandIn
from ..helpers import wait_until
from .conftest import Browser

TYPES = ["consent.changed", "social.linked", "social.unlinked"]


def test_consent_and_link_events_reach_a_subscriber_signed(id_config, make_app, oidc_provider):
    receiver = StandIn().start()
    app = make_app(id_config | FAST)
    try:
        with app.app_context():
            admin = {"Authorization": f"Bearer {create_key('tests', ['admin'])}"}
        client = app.test_client()
        created = client.post(
            "/api/v1/subscriptions",
            json={"url": f"{receiver.url}/events", "event_types": TYPES},
            headers=admin,
        )
        assert created.status_code == 201, created.json
        secret = created.json["secret"]

        member = Browser(app, oidc_provider)
        member.arrive("M-events")
        member.client.post(
            "/portal/privacy/social_profile_matching",
            data={"csrf_token": member.csrf("/portal/privacy"), "granted": "1"},
        )
        subject = f"events-{uuid.uuid4().hex[:8]}"
        member.link(subject)
        assert member.unlink().status_code == 303
        client.put(
            "/api/v1/members/M-events/consents/targeted_rewards",
            json={"granted": False},
            headers=admin,
        )

        if id_config["REDIS_URL"]:
            from rq import SimpleWorker

            from loyalty_social.queue import redis_connection, rq_queues

            def delivered():
                with app.app_context():
                    SimpleWorker(rq_queues(), connection=redis_connection()).work(burst=True)
                return len(receiver.events) >= 4

            wait_until(delivered)
        else:
            wait_until(lambda: len(receiver.events) >= 4)
        received = [Webhook(secret).verify(body, headers) for body, headers in receiver.events]
        by_type = sorted(
            (event["type"], json.dumps(event["data"], sort_keys=True)) for event in received
        )
        types = [t for t, _ in by_type]
        assert types == ["consent.changed", "consent.changed", "social.linked", "social.unlinked"]
        consents = [e["data"] for e in received if e["type"] == "consent.changed"]
        assert {(c["purpose"], c["granted"], c["source"]) for c in consents} == {
            ("social_profile_matching", True, "portal"),
            ("targeted_rewards", False, "backend"),
        }
        assert all(c["member_id"] == "M-events" and c["policy_version"] == 1 for c in consents)
        [linked] = [e["data"] for e in received if e["type"] == "social.linked"]
        [unlinked] = [e["data"] for e in received if e["type"] == "social.unlinked"]
        assert (linked["member_id"], linked["provider"]) == ("M-events", "mock")
        assert (unlinked["provider"], unlinked["kept_as_history"]) == ("mock", True)
        assert subject not in json.dumps(received)  # no social identifiers leave
    finally:
        stop_in_process(app)  # the embedded default's delivery thread
        receiver.stop()
