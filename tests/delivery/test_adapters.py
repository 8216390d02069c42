"""The backend adapters, called directly against the stand-in backend (a real HTTP server)."""

from __future__ import annotations

import pytest

from loyalty_social.delivery.adapters import (
    ADAPTERS,
    CREDIT,
    DEBIT,
    DELIVERED,
    FAILED,
    OFFER_GRANT,
    OFFER_REDEEM,
    RETRY,
    LedgerAdapter,
    Outcome,
    build_adapter,
)
from loyalty_social.settings import load_settings
from loyalty_social.webhook_signing import generate_secret

from ..services import free_port


def adapter_config(url: str, **overrides) -> dict:
    """The documented defaults (config/default.toml) pointed at ``url``."""
    settings = load_settings(
        {"ENV": "testing", "BACKEND_ADAPTER": "http", "BACKEND_URL": url, **overrides}, environ={}
    )
    return settings.as_flask_config()


AWARD = {"award_id": "awd_1", "member_id": "M-1", "points": 10}


def test_every_operation_carries_its_idempotency_key_and_bearer_token(standin):
    backend = standin(token="t0ken")
    adapter = build_adapter(adapter_config(backend.url, BACKEND_TOKEN="t0ken"))
    offer = {"grant_id": "ogr_1", "member_id": "M-1", "offer_id": "off_9"}

    assert adapter.credit("awd_1", AWARD).result == DELIVERED
    assert adapter.debit("awd_1.reversal", AWARD).result == DELIVERED
    assert adapter.grant_offer("ogr_1", offer).result == DELIVERED
    assert adapter.redeem_offer("ogr_1.redeem", offer).result == DELIVERED

    assert backend.paths == {
        "awd_1": "/points/credit",
        "awd_1.reversal": "/points/debit",
        "ogr_1": "/offers/grant",
        "ogr_1.redeem": "/offers/redeem",
    }
    assert backend.bodies["ogr_1"] == offer
    assert backend.points["M-1"] == 0  # credited, then debited
    # A repeat with the same key is the same operation: the backend applies it once.
    assert adapter.credit("awd_1", AWARD).result == DELIVERED
    assert backend.calls["awd_1"] == 2 and backend.applied["awd_1"] == 1


def test_a_wrong_token_is_retried_with_the_backends_message(standin):
    backend = standin(token="right")
    outcome = build_adapter(adapter_config(backend.url, BACKEND_TOKEN="wrong")).credit(
        "awd_1", AWARD
    )
    assert (outcome.result, outcome.status_code) == (RETRY, 401)
    assert outcome.error == "401: bad credentials"
    assert backend.applied_keys() == set()


def test_hmac_signed_requests_verify_with_standardwebhooks(standin):
    secret = generate_secret()
    backend = standin(hmac_secret=secret)
    good = build_adapter(adapter_config(backend.url, BACKEND_HMAC_SECRET=secret))
    assert good.credit("awd_1", AWARD).result == DELIVERED
    forged = build_adapter(adapter_config(backend.url, BACKEND_HMAC_SECRET=generate_secret()))
    assert forged.credit("awd_2", AWARD).status_code == 401
    assert backend.applied_keys() == {"awd_1"} and backend.auth_failures == 1


def test_paths_may_name_the_member(standin):
    backend = standin()
    adapter = build_adapter(
        adapter_config(backend.url, BACKEND_CREDIT_PATH="/members/{member_id}/points")
    )
    assert adapter.credit("awd_1", AWARD).result == DELIVERED
    assert backend.paths["awd_1"] == "/members/M-1/points"
    # Quoted whole: a member id cannot reach another path.
    assert adapter.url_for(CREDIT, {"member_id": "M 1/../x"}).endswith(
        "/members/M%201%2F..%2Fx/points"
    )


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, DELIVERED),
        (201, DELIVERED),
        (409, FAILED),
        (422, FAILED),
        (429, RETRY),
        (500, RETRY),
        (503, RETRY),
        (400, RETRY),
    ],
)
def test_status_codes_map_to_delivered_failed_or_retry(standin, status, result):
    backend = standin()
    backend.answer = (status, {"detail": f"said {status}"})
    outcome = build_adapter(adapter_config(backend.url)).credit("awd_1", AWARD)
    assert (outcome.result, outcome.status_code) == (result, status)
    if result != DELIVERED:
        assert outcome.error == f"{status}: said {status}"


def test_timeouts_and_refused_connections_are_retried(standin):
    backend = standin()
    backend.fail_rate, backend.hang_seconds = 1.0, 1.0
    backend._random.random = lambda: 0.9  # the "hang" half of failures
    slow = build_adapter(adapter_config(backend.url, BACKEND_READ_TIMEOUT_SECONDS=0.2))
    assert slow.credit("awd_1", AWARD) == Outcome(RETRY, None, "timed out")
    nobody = build_adapter(adapter_config(f"http://127.0.0.1:{free_port()}"))
    refused = nobody.credit("awd_1", AWARD)
    assert refused.result == RETRY and "ConnectionError" in refused.error


def test_ledger_adapter_keeps_everything_local():
    adapter = build_adapter(adapter_config("", BACKEND_ADAPTER="ledger"))
    assert isinstance(adapter, LedgerAdapter) and adapter.local
    for kind in (CREDIT, DEBIT, OFFER_GRANT, OFFER_REDEEM):
        assert adapter.call(kind, "k", AWARD).result == DELIVERED


def test_misconfiguration_is_reported_by_name():
    with pytest.raises(ValueError, match="BACKEND_URL"):
        build_adapter(adapter_config(""))
    with pytest.raises(ValueError, match="one of ledger, http"):
        build_adapter(adapter_config("http://x", BACKEND_ADAPTER="carrier-pigeon"))
    assert set(ADAPTERS) == {"ledger", "http"}
