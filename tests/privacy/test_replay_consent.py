"""Every replay path decides a targeted rule with the consent the member has at the moment
of the replay: the API's replay and the operator's `event replay` (held awards: approval
re-checks it, tests/rules)."""

from __future__ import annotations

from loyalty_social.consent.service import set_consent
from loyalty_social.extensions import db

from ..conftest import run_cli
from ..rules.conftest import auth, make_rule, outcome, rapp, review, send  # noqa: F401


def consent(app, granted: bool) -> None:
    with app.app_context():
        set_consent("M-1", "targeted_rewards", granted, "backend", "tests")
        db.session.commit()


def codes(app, event_id: str) -> list:
    explained = outcome(app, event_id)["explanations"]
    return [e.get("code") for e in explained]


def test_replays_check_consent_when_they_pay(rapp, sqlite_config):  # noqa: F811
    make_rule(rapp, targeted=True)
    event_id = send(rapp, "review.published", data=review("a"))["id"]
    assert codes(rapp, event_id) == ["consent"]  # never consented: nothing paid

    consent(rapp, True)
    consent(rapp, False)  # ... and withdrawn again before the replay
    client = rapp.test_client()
    replayed = client.post(f"/api/v1/events/{event_id}/replay", headers=auth(rapp))
    assert replayed.status_code in (200, 202), replayed.text
    assert outcome(rapp, event_id)["awards"] == [] and codes(rapp, event_id) == ["consent"]

    consent(rapp, True)  # consenting now: the operator's replay pays, once
    result = run_cli(sqlite_config, "event", "replay", event_id)
    assert result.returncode == 0, result.stderr
    assert [a["points"] for a in outcome(rapp, event_id)["awards"]] == [10]
    consent(rapp, False)
    again = run_cli(sqlite_config, "event", "replay", event_id)
    assert again.returncode == 0, again.stderr
    assert [a["points"] for a in outcome(rapp, event_id)["awards"]] == []  # nothing new
