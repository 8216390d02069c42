"""Account health: a revoked grant is noticed by the scheduled check; the member reconnects."""

from __future__ import annotations

import uuid

import requests

from loyalty_social.extensions import db

from ..conftest import run_cli
from .conftest import Browser


def health(app, member_id):
    with app.app_context():
        return db.session.execute(
            db.text("SELECT health, health_reason FROM social_account WHERE member_id = :m"),
            {"m": member_id},
        ).one()


def test_revoked_grant_needs_attention_and_reconnect_heals(id_app, id_config, oidc_provider):
    subject = f"hl-{uuid.uuid4().hex[:8]}"
    member = Browser(id_app, oidc_provider)
    member.arrive("M-health")
    member.link(subject)
    config = id_config | {"ACCOUNT_HEALTH_EVERY_SECONDS": "0"}

    checked = run_cli(config, "identity", "check-health")
    assert checked.returncode == 0, checked.stderr
    assert "checked 1 links, 0 need attention" in checked.stdout
    assert health(id_app, "M-health") == ("ok", None)

    revoked = requests.post(f"{oidc_provider}/users/{subject}/revoke-tokens", timeout=10)
    assert revoked.status_code == 204
    checked = run_cli(config, "identity", "check-health")
    assert "1 need attention" in checked.stdout, checked.stderr
    assert health(id_app, "M-health") == ("needs_attention", "revoked")
    assert "please reconnect" in member.page().text

    assert member.link(subject).status_code == 303  # "Reconnect" is the link flow again
    assert health(id_app, "M-health") == ("ok", None)
    assert "please reconnect" not in member.page().text


def test_keys_rotate_without_losing_tokens(id_app, id_config, oidc_provider):
    from cryptography.fernet import Fernet

    from loyalty_social import crypto

    member = Browser(id_app, oidc_provider)
    member.arrive("M-rotate")
    member.link(f"rot-{uuid.uuid4().hex[:8]}")
    with id_app.app_context():
        before = crypto.decrypt(
            db.session.execute(db.text("SELECT access_token_enc FROM social_account")).scalar()
        )
    new_key = Fernet.generate_key().decode()
    rotated = id_config | {"ENCRYPTION_KEYS": f"{new_key},{id_config['ENCRYPTION_KEYS']}"}
    result = run_cli(rotated, "identity", "reencrypt-tokens")
    assert result.returncode == 0 and "re-encrypted tokens of 1 links" in result.stdout
    with id_app.app_context():
        raw = db.session.execute(db.text("SELECT access_token_enc FROM social_account")).scalar()
    assert Fernet(new_key).decrypt(raw.encode()).decode() == before


def test_the_schedule_runs_the_check_without_an_operator(
    id_app, id_config, oidc_provider, make_app, start_worker
):
    """No CLI: the schedule (a worker's scheduler with Redis, the web process's thread on the
    embedded default) runs the account-health check and notices a revoked grant."""
    from loyalty_social import queue, schedule

    from ..helpers import wait_until

    subject = f"sc-{uuid.uuid4().hex[:8]}"
    member = Browser(id_app, oidc_provider)
    member.arrive("M-scheduled")
    member.link(subject)
    revoked = requests.post(f"{oidc_provider}/users/{subject}/revoke-tokens", timeout=10)
    assert revoked.status_code == 204
    config = id_config | {"ACCOUNT_HEALTH_EVERY_SECONDS": 0, "ACCOUNT_HEALTH_INTERVAL_SECONDS": 1}
    scheduled = make_app(config)
    if config["REDIS_URL"]:
        start_worker(config)
    else:
        schedule.start_in_process(scheduled)
    try:
        wait_until(lambda: health(id_app, "M-scheduled") == ("needs_attention", "revoked"))
    finally:
        schedule.stop_in_process(scheduled)
        queue.stop_in_process(scheduled)
