"""Exactly once across processes: two web apps (each with its own click writer, as two
server processes) counting the same visitors at once count each visitor once per link; a
replayed share event verifies nothing twice (PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..helpers import drain
from .conftest import browser, flush_clicks, seeded
from .test_links import make_link
from .test_referrals import events, send


def test_two_processes_count_each_visitor_once(pg_config, make_app, caplog):
    from .conftest import SETTINGS

    config = {**pg_config, **SETTINGS, "SHARE_CLICK_LINGER_SECONDS": 0.01}
    one, two = make_app(config), make_app(config)
    keys = seeded(one)
    codes = [
        make_link(one.test_client(), keys["auth"], member="M-pop", url=f"https://shop.example/{n}")[
            "code"
        ]
        for n in range(5)
    ]
    clients = [one.test_client(use_cookies=False), two.test_client(use_cookies=False)]

    def visit(i):
        visitor = i % 20  # 20 people, each clicking each of 5 links twice through either process
        response = clients[i % 2].get(
            f"/s/{codes[(i // 20) % 5]}",
            headers={"User-Agent": browser(visitor)},
            environ_base={"REMOTE_ADDR": f"198.51.100.{visitor}"},
        )
        assert response.status_code == 302

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(visit, range(200)))
    flush_clicks(one)
    flush_clicks(two)
    drain(one)
    item = one.test_client().get("/api/v1/members/M-pop/share-links", headers=keys["auth"])
    totals = [(x["clicks"], x["repeat_clicks"], x["bot_clicks"]) for x in item.json["items"]]
    assert totals == [(20, 20, 0)] * 5
    # no batch was lost: no writer failed (a deadlock between the two would show here)
    assert not [r for r in caplog.records if r.name == "loyalty_social.batching"]


def test_a_replayed_share_verifies_once(pg_config, make_app):
    from .conftest import SETTINGS

    app = make_app({**pg_config, **SETTINGS})
    client = app.test_client()
    keys = seeded(app)
    code = make_link(client, keys["auth"], member="M-rep")["code"]
    for n in range(3):
        client.get(f"/s/{code}", headers={"User-Agent": browser(n), "Cookie": ""})
        client.delete_cookie("ls_ref")
    flush_clicks(app)
    event_id = send(
        client,
        keys["secret"],
        "social.shared",
        "M-rep",
        {"network": "x", "url": "https://shop.example/p/1", "share_code": code},
    )
    drain(app)
    assert len(events(app, "social.share_verified")) == 1
    replay = client.post(f"/api/v1/events/{event_id}/replay", headers=keys["auth"])
    assert replay.status_code == 202
    drain(app)
    assert len(events(app, "social.share_verified")) == 1
