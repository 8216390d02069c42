"""The OpenAPI document, fuzzed with schemathesis: no 5xx, responses conform to the document.

On PostgreSQL (the production database, the stricter one), with NUL characters generated
(``allow_x00``): PostgreSQL refuses them in any text, so every route must refuse them first
(``storable``) rather than fail there. SQLite stores what PostgreSQL stores and more.
"""

import io
from urllib.parse import unquote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .helpers import drain, envelope, seed, signed

# What the app last received (path, query string, body), recorded by a WSGI layer: the oracle
# judges a NUL by what arrived, since a transport may serialise a generated case differently
# (a nested query value, a header it drops) from the URL schemathesis reports.
ARRIVED: list[tuple[str, str, str, bytes]] = []


def _recording(inner):
    def app(environ, start_response):
        length = environ.get("CONTENT_LENGTH") or ""
        body = environ["wsgi.input"].read(int(length)) if length.isdigit() else b""
        environ["wsgi.input"] = io.BytesIO(body)
        ARRIVED[:] = [
            (
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("CONTENT_TYPE", ""),
                body,
            )
        ]
        return inner(environ, start_response)

    return app


@pytest.fixture
def api_app(pg_config, make_app):
    app = make_app(pg_config)
    seeded = seed(app, scopes=("admin",))
    client = app.test_client()
    raw, headers = signed(seeded["secret"], envelope(member_id="M-1"))
    client.post("/webhooks/backend", data=raw, headers=headers)
    drain(app)
    app.config["FUZZ_AUTH"] = seeded["auth"]
    app.wsgi_app = _recording(app.wsgi_app)
    return app


@pytest.fixture
def api_schema(api_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)
    schema.config.generation.update(allow_x00=True)  # the default today; relied on here
    token = api_app.config["FUZZ_AUTH"]["Authorization"].removeprefix("Bearer ")

    @schema.auth()
    class BearerKey:
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(1200)  # one test, every operation a subtest (about 4 min, idle)
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case):
    ARRIVED.clear()
    response = case.call()
    if ARRIVED and _arrived_nul(*ARRIVED[0]):  # refused before anything else (422)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == ["application/problem+json"]
        assert response.json()["type"].endswith("/validation-failed")
        return
    if case.operation.path in SEMANTIC and response.status_code == 422:
        # Rules are checked against the event types they listen to (a field the type does
        # not carry, a value of the wrong kind): a document cannot say that, so a valid-looking
        # rule may be refused - as a validation problem (tests/rules/test_field_checks.py
        # checks each refusal points at its clause).
        assert response.json()["type"].endswith("/validation-failed"), response.text
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        return
    case.validate_response(response)


# Operations whose bodies are rule documents, validated beyond their schema.
SEMANTIC = {
    "/api/v1/rules",
    "/api/v1/rules/{rule_id}",
    "/api/v1/rules/{rule_id}/backtests",
    "/api/v1/previews",
}


def _arrived_nul(path: str, query: str, content_type: str, body: bytes) -> bool:
    """A NUL in what reached the app: the path, the raw query string (``%00``), a JSON
    string (a raw NUL byte makes the body invalid JSON: 400, checked against the document),
    or a form field."""
    form = "urlencoded" in content_type
    return "\x00" in path or "%00" in query or b"\\u0000" in body or (form and b"%00" in body)


def _holds_nul(value) -> bool:
    """A NUL anywhere the request carries text the app reads: path, query or body."""
    if hasattr(value, "operation"):  # a case
        return any(_holds_nul(p) for p in (value.path_parameters, value.query, value.body))
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return isinstance(value, str) and "\x00" in value


@pytest.fixture
def unauthenticated_schema(sqlite_config, make_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", make_app(sqlite_config))


def _unroutable(value) -> bool:
    """A "/" starts another path segment; a line break is outside the ``path`` converter's
    pattern (``.`` does not match it). Either way no route matches and 404 comes first."""
    text = unquote(str(value))
    return "/" in text or "\n" in text


@pytest.mark.timeout(600)
@schemathesis.pytest.from_fixture("unauthenticated_schema").parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_without_credentials_is_401_problem(case):
    if case.method.upper() != case.operation.method.upper():
        return  # schemathesis also probes other methods: 405 there is right
    if any(_unroutable(value) for value in (case.path_parameters or {}).values()):
        return  # such a path parameter names another (unrouted) URL: 404 there is right
    if _holds_nul(case):
        return  # text that cannot be stored is refused (422) before credentials are looked at
    response = case.call()
    assert response.status_code == 401
    assert response.headers["content-type"] == ["application/problem+json"]
