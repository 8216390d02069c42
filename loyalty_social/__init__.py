"""Loyalty Social: social engagement in, loyalty rewards out."""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """The app factory: binds settings, extensions, errors and blueprints. Nothing else runs."""
    from .settings import instance_folder, load_settings

    folder = instance_folder()
    app = Flask(
        __name__, instance_path=str(folder) if folder else None, instance_relative_config=True
    )
    settings = load_settings(overrides, instance_path=Path(app.instance_path))
    app.config.update(settings.as_flask_config())
    _configure_flask(app)

    from .logs import configure_logging

    configure_logging(settings.LOG_FORMAT, settings.LOG_LEVEL)
    _init_extensions(app)
    _register(app)
    return app


def _configure_flask(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=(
            {"connect_args": {"timeout": 30}}
            if url.startswith("sqlite")
            else {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        ),
        MAX_CONTENT_LENGTH=app.config["WEBHOOK_MAX_BODY_BYTES"],
        JSON_SORT_KEYS=False,
        API_TITLE="Loyalty Social",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_REDOC_PATH="docs",
        # vendored (make vendor-redoc): the docs page loads nothing from another host
        OPENAPI_REDOC_URL="/static/vendor/redoc/redoc.standalone.js",
    )


def _init_extensions(app: Flask) -> None:
    from .extensions import api, db, migrate
    from .sql import configure_sqlite, refuse_queries_in_pipeline

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        refuse_queries_in_pipeline(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    api.init_app(app)
    api.spec.components.security_scheme(
        "apiKey",
        {"type": "http", "scheme": "bearer", "description": "loyalty-social apikey create"},
    )


def _register(app: Flask) -> None:
    from . import features, metrics, requests_context, storable
    from .errors import register_error_handlers
    from .health import health_bp

    requests_context.init_app(app)
    metrics.init_app(app)
    storable.init_app(app)
    app.register_blueprint(health_bp)
    features.load_models()
    for feature in features.modules():
        feature.init_app(app)
    register_error_handlers(app)  # after flask-smorest, whose own handler it replaces
