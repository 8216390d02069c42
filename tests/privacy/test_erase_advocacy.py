"""Erasure reaches the advocates' records: a member's share links (with their clicks),
signals and score go, the link stops redirecting, and the database names the member nowhere."""

from __future__ import annotations

from loyalty_social.access.service import create_key
from loyalty_social.advocates.links import create_link

from ..advocates.conftest import SETTINGS, browser, flush_clicks
from .everything import occurrences

MEMBER = "M-advocate"


def test_erasure_removes_share_links_and_clicks(stack_config, make_app):
    app = make_app({**stack_config, **SETTINGS})
    with app.app_context():
        link, _ = create_link(MEMBER, "https://shop.example/boots")
        code = link.code
        auth = {"Authorization": f"Bearer {create_key('admin', ['admin'])}"}
    client = app.test_client()
    assert client.get(f"/s/{code}", headers={"User-Agent": browser(1)}).status_code in (302, 303)
    flush_clicks(app)
    exported = client.get(f"/api/v1/members/{MEMBER}/export", headers=auth).json["records"]
    [shared] = exported["advocacy"]["share_links"]
    assert shared["code"] == code and len(shared["click_log"]) == 1
    assert "visitor" not in shared["click_log"][0]

    erased = client.post(f"/api/v1/members/{MEMBER}/erasure", headers=auth)
    assert erased.status_code == 200, erased.text
    assert erased.json["counts"]["advocacy.share_links"] == 1
    assert erased.json["counts"]["advocacy.clicks"] == 1
    after = client.get(f"/api/v1/members/{MEMBER}/export", headers=auth).json["records"]
    assert after["advocacy"]["share_links"] == [] and after["advocacy"]["score"] is None
    assert client.get(f"/s/{code}", headers={"User-Agent": browser(2)}).status_code == 404
    assert occurrences(app, MEMBER) == {}
