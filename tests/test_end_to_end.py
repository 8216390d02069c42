"""A signed webhook in, points out: through the production server, on both stacks."""

import requests

from .helpers import drain, envelope, seed, signed, wait_until


def test_signed_webhook_becomes_points_through_served_app(
    stack_config, make_app, serve, start_worker
):
    app = make_app(stack_config)
    seeded = seed(app, rules=(("social.shared", 10), ("review.published", 25)))
    server = serve(stack_config)
    if stack_config["REDIS_URL"]:
        start_worker(stack_config)  # production shape: a real RQ worker process

    raw, headers = signed(seeded["secret"], envelope(member_id="M-42"))
    response = requests.post(
        f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10
    )
    assert response.status_code == 202, response.text
    event_id = response.json()["id"]

    def processed():
        event = requests.get(
            f"{server.url}/api/v1/events/{event_id}", headers=seeded["auth"], timeout=10
        ).json()
        return event if event["status"] == "processed" else None

    event = wait_until(processed)
    assert [a["points"] for a in event["outcome"]["awards"]] == [10]

    balance = requests.get(
        f"{server.url}/api/v1/members/M-42/balance", headers=seeded["auth"], timeout=10
    )
    assert balance.json() == {"member_id": "M-42", "points": 10}
    ledger = requests.get(
        f"{server.url}/api/v1/members/M-42/ledger", headers=seeded["auth"], timeout=10
    ).json()
    assert [(e["kind"], e["points"], e["event_id"]) for e in ledger["items"]] == [
        ("award", 10, event_id)
    ]
    assert ledger["items"][0]["rule_id"] == seeded["rule_ids"][0]


def test_other_members_and_types_earn_nothing(client, app):
    seeded = seed(app)
    raw, headers = signed(
        seeded["secret"],
        envelope("social.followed", member_id="M-7", data={"network": "x", "account": "@b"}),
    )
    assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    drain(app)
    body = client.get("/api/v1/members/M-7/balance", headers=seeded["auth"]).json
    assert body == {"member_id": "M-7", "points": 0}
