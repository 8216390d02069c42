"""Bad input gets its problem+json error and writes nothing; good input is stored as sent."""

import io
import json
import time

import pytest
from sqlalchemy import func, select

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.intake.sources import add_source

from .helpers import drain, envelope, seed, signed

PROBLEM = "https://loyalty-social.dev/problems/"


def stored_events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ActivityEvent))


def assert_problem(response, status: int, slug: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEM + slug
    assert response.json["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return response.json


@pytest.fixture
def seeded(app):
    return seed(app)


def test_bad_signature_is_401_and_stores_nothing(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    headers["webhook-signature"] = "v1," + "A" * 44
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 401, "invalid-signature"
    )
    assert stored_events(app) == 0


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_401_naming_it(client, app, seeded, header):
    raw, headers = signed(seeded["secret"], envelope())
    del headers[header]
    body = assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 401, "invalid-signature"
    )
    assert header in body["detail"]
    assert stored_events(app) == 0


def test_tampered_body_wrong_secret_stale_and_future_timestamps_fail(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    tampered = raw.replace(b"M-1", b"M-2")
    assert_problem(
        client.post("/webhooks/backend", data=tampered, headers=headers), 401, "invalid-signature"
    )
    other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # well-formed, not the source's
    raw, headers = signed(other, envelope())
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 401, "invalid-signature"
    )
    # Timestamps are whole seconds (truncated): 302 s ahead is more than 300 s ahead even when
    # the request is answered up to a second later.
    for skew in (-301, 302):
        raw, headers = signed(seeded["secret"], envelope(), timestamp=time.time() + skew)
        problem = assert_problem(
            client.post("/webhooks/backend", data=raw, headers=headers), 401, "invalid-signature"
        )
        assert ("too old" if skew < 0 else "future") in problem["detail"]
    # inside the tolerance, both ways, is fine
    for skew in (-250, 250):
        raw, headers = signed(seeded["secret"], envelope(), timestamp=time.time() + skew)
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    assert stored_events(app) == 2


def test_several_signatures_in_one_header_any_may_match(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    headers["webhook-signature"] = "v1,bm90LWl0 v1a,xyz " + headers["webhook-signature"]
    assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202


def test_malformed_json_is_400(client, app, seeded):
    raw, headers = signed(seeded["secret"], b'{"type": "social.shared",')
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 400, "malformed-json"
    )
    assert stored_events(app) == 0


def test_unknown_source_is_404(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    assert_problem(
        client.post("/webhooks/nobody", data=raw, headers=headers), 404, "unknown-source"
    )


def test_disabled_source_is_refused(client, app, seeded):
    from loyalty_social.intake.sources import set_enabled

    with app.app_context():
        set_enabled("backend", False)
    raw, headers = signed(seeded["secret"], envelope())
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 404, "unknown-source"
    )


def test_body_over_the_limit_is_413(client, app, seeded):
    limit = app.config["WEBHOOK_MAX_BODY_BYTES"]
    body = envelope(data={"network": "x", "url": "https://ex.test/1", "padding": "p" * limit})
    raw, headers = signed(seeded["secret"], body)
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 413, "payload-too-large"
    )
    assert stored_events(app) == 0


def test_body_over_the_limit_without_content_length_is_413(client, app, seeded):
    """A chunked body (no Content-Length) is read only to one byte past the limit."""
    limit = app.config["WEBHOOK_MAX_BODY_BYTES"]
    body = envelope(data={"network": "x", "url": "https://ex.test/1", "padding": "p" * limit})
    raw, headers = signed(seeded["secret"], body)
    response = client.post("/webhooks/backend", input_stream=io.BytesIO(raw), headers=headers)
    assert_problem(response, 413, "payload-too-large")
    assert stored_events(app) == 0


def test_only_post_is_allowed_with_405_naming_it(client, app, seeded):
    response = client.get("/webhooks/backend")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == "POST"


def test_request_id_is_echoed_on_answers_and_problems(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    accepted = client.post(
        "/webhooks/backend", data=raw, headers={**headers, "X-Request-ID": "r-1"}
    )
    assert accepted.status_code == 202
    assert accepted.headers["X-Request-ID"] == "r-1"
    refused = client.post("/webhooks/nobody", data=raw, headers={**headers, "X-Request-ID": "r-2"})
    assert refused.headers["X-Request-ID"] == "r-2"
    generated = client.post(
        "/webhooks/backend", data=raw, headers={**headers, "X-Request-ID": "<x>"}
    )
    assert generated.headers["X-Request-ID"].startswith("req_")
    assert refused.json["instance"] == "/webhooks/nobody"


def test_wrong_content_type_is_415(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope())
    headers["content-type"] = "text/plain"
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 415, "unsupported-media-type"
    )


def test_unknown_type_is_422_listing_known_types(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope("social.poked"))
    problem = assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 422, "unknown-event-type"
    )
    assert "social.shared" in problem["known_types"]
    assert "review.removed" in problem["known_types"]
    assert stored_events(app) == 0


def test_invalid_payload_is_422_per_field(client, app, seeded):
    body = envelope(
        "review.published",
        data={"review_id": "r1", "platform": "p", "sku": "s", "rating": 9, "text_length": 3},
    )
    raw, headers = signed(seeded["secret"], body)
    problem = assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 422, "validation-failed"
    )
    assert "rating" in problem["errors"]["data"]
    raw, headers = signed(seeded["secret"], {"type": "social.shared"})
    problem = assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 422, "validation-failed"
    )
    assert {"timestamp", "member_id", "data"} <= set(problem["errors"])
    assert stored_events(app) == 0


def test_extra_fields_are_kept_and_evidence_is_capped_by_the_source(client, app):
    with app.app_context():
        secret = add_source("reviews", max_evidence="tracked")
    body = envelope(
        evidence="confirmed", data={"network": "x", "url": "https://ex.test/a", "campaign": "fall"}
    )
    raw, headers = signed(secret, body)
    response = client.post("/webhooks/reviews", data=raw, headers=headers)
    assert response.status_code == 202
    with app.app_context():
        event = db.session.get(ActivityEvent, response.json["id"])
        assert event.data["campaign"] == "fall"
        assert (event.evidence, event.evidence_claimed) == ("tracked", "confirmed")


def test_repeat_delivery_is_200_with_the_first_outcome_and_reuse_is_409(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope(member_id="M-9"))
    first = client.post("/webhooks/backend", data=raw, headers=headers)
    assert first.status_code == 202 and first.json["duplicate"] is False
    again = client.post("/webhooks/backend", data=raw, headers=headers)
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"] and again.json["duplicate"] is True
    drain(app)
    done = client.post("/webhooks/backend", data=raw, headers=headers)
    assert done.status_code == 200 and done.json["status"] == "processed"
    assert done.json["outcome"]["awards"][0]["points"] == 10

    other_body, _ = signed(seeded["secret"], envelope(member_id="M-10"))
    _, reuse_headers = signed(seeded["secret"], other_body, webhook_id=headers["webhook-id"])
    problem = assert_problem(
        client.post("/webhooks/backend", data=other_body, headers=reuse_headers),
        409,
        "webhook-id-reused",
    )
    assert problem["event_id"] == first.json["id"]
    assert stored_events(app) == 1
    assert client.get("/api/v1/members/M-9/balance", headers=seeded["auth"]).json["points"] == 10


def test_rate_limit_per_source_is_429_with_retry_after(client, app):
    with app.app_context():
        secret = add_source("chatty", rate_limit=0.5, rate_burst=2)
    statuses = []
    for _ in range(3):
        raw, headers = signed(secret, envelope())
        response = client.post("/webhooks/chatty", data=raw, headers=headers)
        statuses.append(response.status_code)
    assert statuses == [202, 202, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["type"] == PROBLEM + "rate-limited"
    assert stored_events(app) == 2


def test_rotated_secret_old_and_new_both_verify_until_the_grace_ends(client, app, seeded):
    from datetime import timedelta

    from loyalty_social.intake.models import SourceSecret
    from loyalty_social.intake.sources import rotate_secret
    from loyalty_social.timeutil import utcnow

    with app.app_context():
        new_secret = rotate_secret("backend", grace_hours=1)
    for secret in (seeded["secret"], new_secret):
        raw, headers = signed(secret, envelope())
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    with app.app_context():  # the grace period ends
        for row in db.session.scalars(
            select(SourceSecret).where(SourceSecret.expires_at.is_not(None))
        ):
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    raw, headers = signed(seeded["secret"], envelope())
    assert_problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 401, "invalid-signature"
    )
    raw, headers = signed(new_secret, envelope())
    assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202


def test_source_secrets_are_encrypted_at_rest(app):
    from loyalty_social.intake.models import SourceSecret

    with app.app_context():
        secret = add_source("vault")
        raw = db.session.scalars(select(SourceSecret.secret_encrypted)).one()
    assert secret not in raw and secret.removeprefix("whsec_") not in raw


def test_database_down_is_503_with_retry_after(make_app, sqlite_config):
    config = dict(sqlite_config, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    app = make_app(config)
    response = app.test_client().post(
        "/webhooks/backend",
        data=json.dumps(envelope()),
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 503, "service-unavailable")
    assert response.headers["Retry-After"] == "5"
