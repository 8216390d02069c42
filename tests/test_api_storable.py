"""The REST API refuses text it cannot store (NUL, lone surrogates) with 422 problem+json naming
the field, on PostgreSQL as on SQLite, instead of failing in the database with a 500."""

import pytest

from .helpers import seed

PROBLEM = "https://loyalty-social.dev/problems/"


@pytest.fixture
def auth(app):
    return seed(app, scopes=("admin",))["auth"]


def refused(response, location: str, name: str | None = None) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEM + "validation-failed"
    errors = response.json["errors"]
    assert location in errors, errors
    if name is not None:
        assert name in errors[location], errors
    return errors


@pytest.mark.parametrize(
    ("url", "location", "name"),
    [
        ("/api/v1/awards?member_id=%00", "query", "member_id"),
        ("/api/v1/events?source=a%00b", "query", "source"),
        ("/api/v1/deliveries?status=x&x%00=1", "query", "x\\x00"),
        ("/api/v1/members/%00/balance", "path", None),
    ],
)
def test_unstorable_text_in_path_or_query_is_422(client, auth, url, location, name):
    refused(client.get(url, headers=auth), location, name)


def test_unstorable_text_in_a_json_body_is_422_naming_the_field(client, app, auth):
    errors = refused(
        client.post("/api/v1/campaigns", json={"name": "fall\x00"}, headers=auth),
        "json",
        "name",
    )
    assert errors["json"]["name"]
    nested = client.post(
        "/api/v1/previews",
        json={"rule": {"name": "r", "conditions": [{"field": "a\x00"}]}},
        headers=auth,
    )
    assert refused(nested, "json")["json"]["rule"]["conditions"]["0"]["field"]
    surrogate = client.post(
        "/api/v1/campaigns",
        data=b'{"name": "fall \\ud800"}',
        headers={**auth, "content-type": "application/json"},
    )
    refused(surrogate, "json", "name")
    fine = client.post("/api/v1/campaigns", json={"name": "fall"}, headers=auth)
    assert fine.status_code < 300, fine.json
