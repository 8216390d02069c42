"""Extensions, created unbound; ``create_app`` binds them with ``init_app``."""

import http

import flask
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .openapi import Plugin

# Named constraints so Alembic can alter them on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


DOCS_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'"
)


class ProblemApi(Api):
    """flask-smorest, documenting every error as RFC 9457 application/problem+json, and
    with the additions of ``openapi.Plugin`` (unions as ``$ref``s, rules across fields)."""

    def _init_spec(self, **kwargs):
        super()._init_spec(**{**kwargs, "marshmallow_plugin": Plugin()})

    def _openapi_redoc(self):
        """The docs page, told to load nothing from another host: Redoc's bundle is served by
        the app, and the page refuses the rest (Redoc shows its logo from its CDN)."""
        response = flask.make_response(super()._openapi_redoc())
        response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response

    def _register_responses(self):
        from flask_smorest.spec import prepare_response

        from .errors import PROBLEM_JSON, ProblemSchema

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
api = ProblemApi()
