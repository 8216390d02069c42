"""The skeleton itself: factory, settings, errors, health, auth, metrics, logs, migrations."""

import json
import logging
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from loyalty_social import create_app
from loyalty_social.access.service import create_key
from loyalty_social.settings import SettingsError, load_settings

from .conftest import TEST_SECRETS, make_config, run_cli
from .helpers import envelope, seed, signed

PROBLEM = "https://loyalty-social.dev/problems/"


def test_factory_builds_independent_apps(sqlite_config, tmp_path):
    first = create_app(sqlite_config)
    second = create_app(make_config(f"sqlite:///{tmp_path}/other.db"))
    assert first is not second
    assert first.config["DATABASE_URL"] != second.config["DATABASE_URL"]
    assert first.config["ENV"] == "testing"


def test_environment_overrides_config_files_with_types():
    settings = load_settings(
        environ={
            "LOYALTY_SOCIAL_ENV": "testing",
            "LOYALTY_SOCIAL_WEB_THREADS": "12",
            "LOYALTY_SOCIAL_WEBHOOK_RATE_LIMIT": "2.5",
            "DATABASE_URL": "postgres://u@db/x",
        }
    )
    assert settings.WEB_THREADS == 12 and settings.WEBHOOK_RATE_LIMIT == 2.5
    assert settings.DATABASE_URL == "postgresql+psycopg://u@db/x"
    with pytest.raises(SettingsError, match="WEB_WORKERS must be an integer"):
        load_settings(environ={"LOYALTY_SOCIAL_ENV": "testing", "LOYALTY_SOCIAL_WEB_WORKERS": "x"})


def test_production_refuses_to_start_naming_what_is_missing():
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"LOYALTY_SOCIAL_ENV": "production"})
    message = str(error.value)
    for name in ("LOYALTY_SOCIAL_SECRET_KEY", "LOYALTY_SOCIAL_ENCRYPTION_KEYS", "DATABASE_URL"):
        assert name in message
    complete = {
        "LOYALTY_SOCIAL_ENV": "production",
        "LOYALTY_SOCIAL_SECRET_KEY": "k" * 40,
        "LOYALTY_SOCIAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgresql://u@db/x",
    }
    assert load_settings(environ=complete).LOG_FORMAT == "json"
    demo = complete | {"LOYALTY_SOCIAL_DEMO_OIDC_URL": "http://127.0.0.1:5999"}
    with pytest.raises(SettingsError, match="DEMO_OIDC_URL"):
        load_settings(environ=demo)


def test_secrets_file_supplies_secrets(tmp_path):
    key = Fernet.generate_key().decode()
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'SECRET_KEY = "{"s" * 40}"\nENCRYPTION_KEYS = "{key}"\n')
    settings = load_settings(
        environ={
            "LOYALTY_SOCIAL_ENV": "production",
            "LOYALTY_SOCIAL_SECRETS_FILE": str(secrets_file),
            "DATABASE_URL": "postgresql://u@db/x",
        }
    )
    assert key == settings.ENCRYPTION_KEYS


def test_serve_refuses_production_without_a_webhook_source(pg_config):
    config = dict(pg_config, ENV="production")
    result = run_cli(config, "serve", "--bind", "127.0.0.1:1")
    assert result.returncode != 0
    assert "loyalty-social source add" in result.stderr


def test_error_paths_are_problem_json(app):
    client = app.test_client()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    not_found = client.get("/nowhere")
    assert not_found.status_code == 404 and not_found.json["type"] == PROBLEM + "not-found"
    wrong_method = client.delete("/healthz")
    assert (
        wrong_method.status_code == 405
        and wrong_method.json["type"] == PROBLEM + "method-not-allowed"
    )
    assert "GET" in wrong_method.headers["Allow"]
    crash = client.get("/boom")
    assert crash.status_code == 500 and crash.mimetype == "application/problem+json"
    assert crash.json["type"] == PROBLEM + "internal-error"
    assert "secret internals" not in crash.get_data(as_text=True)
    assert "Traceback" not in crash.get_data(as_text=True)


def test_health_and_readiness(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    expected = {"database"} | ({"redis"} if app.config["REDIS_URL"] else set())
    assert set(ready.json["checks"]) == expected


def test_readiness_without_redis_is_degraded_not_503(sqlite_config, make_app):
    app = make_app(dict(sqlite_config, REDIS_URL="redis://127.0.0.1:1/0"))
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "degraded"
    assert ready.json["reason"].startswith("redis unreachable")
    assert ready.json["checks"]["database"] == "ok"


def test_api_keys_401_without_or_with_a_wrong_key_403_without_the_scope(app):
    client = app.test_client()
    with app.app_context():
        operator = create_key("ops", ["operator"])
        reader = create_key("reader", ["read"])
    missing = client.get("/api/v1/members/M-1/balance")
    assert missing.status_code == 401 and missing.json["type"] == PROBLEM + "unauthenticated"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get(
        "/api/v1/members/M-1/balance", headers={"Authorization": "Bearer key_x.nope"}
    )
    assert wrong.status_code == 401
    tampered = reader[:-2] + ("AA" if not reader.endswith("AA") else "BB")
    assert (
        client.get(
            "/api/v1/members/M-1/balance", headers={"Authorization": f"Bearer {tampered}"}
        ).status_code
        == 401
    )
    forbidden = client.get(
        "/api/v1/members/M-1/balance", headers={"Authorization": f"Bearer {operator}"}
    )
    assert forbidden.status_code == 403 and forbidden.json["type"] == PROBLEM + "forbidden"
    ok = client.get("/api/v1/members/M-1/balance", headers={"Authorization": f"Bearer {reader}"})
    assert ok.status_code == 200


def test_api_keys_are_stored_hashed_and_revocable_from_the_cli(stack_config, app):
    created = run_cli(stack_config, "apikey", "create", "--name", "crm", "--scope", "read")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    key_id, _, secret = token.partition(".")
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT secret_hash FROM api_key")).scalar_one()
    engine.dispose()
    assert secret not in stored
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/members/M-1/balance", headers=auth).status_code == 200
    assert run_cli(stack_config, "apikey", "revoke", key_id).returncode == 0
    assert client.get("/api/v1/members/M-1/balance", headers=auth).status_code == 401


def test_metrics_need_their_scope_and_count_requests_events_and_awards(app):
    from .helpers import drain

    seeded = seed(app, scopes=("metrics",))
    client = app.test_client()
    raw, headers = signed(seeded["secret"], envelope())
    client.post("/webhooks/backend", data=raw, headers=headers)
    drain(app)
    assert client.get("/metrics").status_code == 401
    body = client.get("/metrics", headers=seeded["auth"]).get_data(as_text=True)
    assert (
        'loyalty_social_http_requests_total{endpoint="/webhooks/<source_name>",method="POST",status="202"}'
        in body
    )
    assert "loyalty_social_http_request_duration_seconds_bucket" in body
    assert 'loyalty_social_events_received_total{outcome="accepted"}' in body
    assert 'loyalty_social_awards_total{outcome="granted"}' in body
    assert 'loyalty_social_events{status="pending"} 0.0' in body
    assert 'loyalty_social_events{status="failed"} 0.0' in body
    assert "loyalty_social_oldest_pending_event_age_seconds 0.0" in body
    assert 'status="processed"' not in body  # never a count over the whole table
    if app.config["REDIS_URL"]:
        assert "loyalty_social_queue_depth 0.0" in body


def test_request_id_is_echoed_and_json_logs_carry_it(sqlite_config, make_app, capsys):
    app = make_app(dict(sqlite_config, LOG_FORMAT="json", LOG_LEVEL="INFO"))

    @app.get("/logged")
    def logged():
        logging.getLogger("loyalty_social.test").info("hello")
        return {}

    response = app.test_client().get("/logged", headers={"X-Request-ID": "req-abc"})
    assert response.headers["X-Request-ID"] == "req-abc"
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    record = next(line for line in lines if line["message"] == "hello")
    assert record["request_id"] == "req-abc" and record["level"] == "INFO"
    generated = app.test_client().get("/healthz").headers["X-Request-ID"]
    assert generated.startswith("req_")


def test_migrations_upgrade_and_downgrade_cleanly(stack_config, postgres_server, tmp_path):
    if stack_config["DATABASE_URL"].startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/fresh.db"
    else:
        name = f"ls_mig_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(
            postgres_server.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    config = make_config(url)
    for args in (
        ("db", "upgrade"),
        ("db", "downgrade", "base"),
        ("db", "upgrade"),
        ("db", "check"),
    ):
        result = run_cli(config, *args)
        assert result.returncode == 0, (args, result.stderr[-2000:])
    assert "No new upgrade operations detected" in result.stdout + result.stderr
    engine = sa.create_engine(create_app(config).config["SQLALCHEMY_DATABASE_URI"])
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"activity_event", "award", "ledger_entry", "balance", "api_key", "source"} <= tables


def test_openapi_document_and_docs_page_are_served(app):
    client = app.test_client()
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/members/{member_id}/balance" in document["paths"]
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert client.get("/api/docs").status_code == 200


def test_dev_secrets_are_generated_outside_the_repo_once(tmp_path):
    first = load_settings(environ={}, instance_path=tmp_path)
    second = load_settings(environ={}, instance_path=tmp_path)
    assert first.SECRET_KEY and first.SECRET_KEY == second.SECRET_KEY
    assert (tmp_path / "dev-secrets.toml").stat().st_mode & 0o777 == 0o600
    assert f"sqlite:///{tmp_path}/loyalty_social.db" == first.DATABASE_URL
    assert TEST_SECRETS["SECRET_KEY"] != first.SECRET_KEY


def test_dev_secrets_gain_what_an_older_file_lacks_without_replacing_it(tmp_path):
    (tmp_path / "dev-secrets.toml").write_text(
        'SECRET_KEY = "kept"\nENCRYPTION_KEYS = "kept-too"\n'
    )
    settings = load_settings(environ={}, instance_path=tmp_path)
    assert (settings.SECRET_KEY, settings.ENCRYPTION_KEYS) == ("kept", "kept-too")
    assert len(settings.PORTAL_SHARED_SECRET) >= 32
    again = load_settings(environ={}, instance_path=tmp_path)
    assert again.PORTAL_SHARED_SECRET == settings.PORTAL_SHARED_SECRET


def test_demo_provider_is_offered_in_development_only_when_dev_started_it(tmp_path):
    plain = load_settings(environ={}, instance_path=tmp_path)
    assert "demo" not in plain.OAUTH_PROVIDERS
    started = load_settings(
        environ={"LOYALTY_SOCIAL_DEMO_OIDC_URL": "http://127.0.0.1:5999"}, instance_path=tmp_path
    )
    demo = started.OAUTH_PROVIDERS["demo"]
    assert demo["label"] == "Demo ID" and demo["client_id"]
    assert demo["server_metadata_url"] == ("http://127.0.0.1:5999/.well-known/openid-configuration")
    assert "google" in started.OAUTH_PROVIDERS  # added, nothing replaced


def test_instance_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTY_SOCIAL_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("LOYALTY_SOCIAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"ENV": "development"})
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/elsewhere/loyalty_social.db"
    assert (tmp_path / "elsewhere" / "dev-secrets.toml").exists()
