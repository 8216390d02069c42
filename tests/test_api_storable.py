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


LONG = "x" * 600  # longer than every column it could land in (ids 40, member ids 128, keys 512)


def operations(client):
    document = client.get("/api/openapi.json").json
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                parameters = item.get("parameters", []) + operation.get("parameters", [])
                yield method, path, parameters


def test_over_long_path_and_query_values_are_never_a_server_error(client, auth):
    """Every route, every path and string query parameter 600 characters long: refused or not
    found (4xx problem+json), or answered, never 5xx."""
    seen = 0
    for method, path, parameters in operations(client):
        url = path
        for parameter in parameters:
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", LONG)
        query = {
            p["name"]: LONG
            for p in parameters
            if p["in"] == "query" and p.get("schema", {}).get("type") == "string"
        }
        body = {} if method in ("post", "put", "patch") else None
        for params in ({}, query) if query else ({},):
            response = client.open(
                url, method=method.upper(), query_string=params, json=body, headers=auth
            )
            seen += 1
            assert response.status_code < 500, (method, path, params, response.json)
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (method, path)
    assert seen > 40


def test_writes_keyed_by_an_over_long_path_value_are_refused(client, app, auth):
    """A path value that a write would store (the member id of a consent) longer than its
    column is refused, not a database error."""
    purpose = sorted(app.config["CONSENT_PURPOSES"])[0]
    response = client.put(
        f"/api/v1/members/{LONG}/consents/{purpose}", json={"granted": True}, headers=auth
    )
    assert 400 <= response.status_code < 500, response.json
    assert response.mimetype == "application/problem+json"
    fine = client.put(
        f"/api/v1/members/M-1/consents/{purpose}", json={"granted": True}, headers=auth
    )
    assert fine.status_code == 200, fine.json
