"""The redirect's copy of share links: trusted for SHARE_LINK_CACHE_SECONDS at most (a
disabled link stops redirecting within it in a process that had it), read from the database
by a loader thread, and a database that is away answers 503, never 500 or a hang."""

from __future__ import annotations

import threading
import time

from .conftest import flush_clicks, seeded
from .test_links import make_link


def test_a_disabled_link_stops_redirecting_once_its_copy_expires(adv_config, make_app):
    app = make_app({**adv_config, "SHARE_LINK_CACHE_SECONDS": 1})
    client = app.test_client()
    auth = seeded(app)["auth"]
    code = make_link(client, auth)["code"]
    assert client.get(f"/s/{code}").status_code == 302  # now in this process's copy
    loaded = time.monotonic()
    disabled = client.post(f"/api/v1/share-links/{code}/disable", headers=auth)
    assert disabled.status_code == 200
    time.sleep(max(0.0, loaded + 1.05 - time.monotonic()))
    response = client.get(f"/s/{code}")
    assert response.status_code == 404 and "Location" not in response.headers
    flush_clicks(app)


def test_many_threads_missing_one_link_all_get_it(adv_client, adv_app):
    code = make_link(adv_client, seeded(adv_app)["auth"])["code"]
    start, answers = threading.Barrier(12), []

    def visit():
        start.wait()
        response = adv_app.test_client().get(f"/s/{code}")
        answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=visit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 12
    assert all(s == 302 and f"ref={code}" in location for s, location in answers)
    flush_clicks(adv_app)


def test_a_database_that_is_away_answers_503(adv_config, make_app):
    app = make_app({**adv_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none"})
    client = app.test_client()
    for _ in range(2):  # the loader lives on after a failed read
        response = client.get("/s/AbCdEf123")
        assert response.status_code == 503
        assert "Location" not in response.headers
