"""Admin pages: API keys, outbound subscriptions and webhook sources (enabled and disabled).

Each page lists what exists and creates one more through the feature's own service (which
validates and writes the audit record); a new key's token, a subscription's or a source's
secret is shown once, on the page that answers the form, and never again. Mistakes are shown
beside the field that caused them, with nothing written.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..access import service as access
from ..delivery import inspection, subscriptions
from ..delivery.models import EVENT_TYPES
from ..delivery.schemas import SubscriptionCreateSchema
from ..errors import Problem
from ..intake import sources
from ..intake.catalogue import EVIDENCE_LEVELS
from ..storable import form_errors, shows_fields_beside
from .blueprint import console, nav_item, role_required

nav_item("API keys", "console.api_keys", "admin", order=91)
nav_item("Subscriptions", "console.subscriptions_page", "admin", order=92)
nav_item("Sources", "console.sources_page", "admin", order=93)
ECHO = 2000  # the most of a refused input sent back into the form


def _echo(value: str | None) -> str:
    """A refused input as the form shows it again (no NUL, bounded)."""
    return (value or "").replace("\x00", "")[:ECHO]


def _messages(value) -> str:
    """Marshmallow's messages for one field (a list, or a dict per list item) as one line."""
    if isinstance(value, dict):
        return " ".join(_messages(item) for item in value.values())
    if isinstance(value, list):
        return " ".join(_messages(item) for item in value)
    return str(value)


# --- API keys ---------------------------------------------------------------------------


def _keys_page(errors=None, form=None, token=None, status=200):
    return render_template(
        "console/api_keys.html",
        keys=access.list_keys(),
        scopes=access.SCOPES,
        resolution=current_app.config["KEY_LAST_USED_RESOLUTION"],
        errors=errors or {},
        form=form or {},
        token=token,
    ), status


@console.get("/api-keys")
@role_required("admin")
def api_keys():
    return _keys_page()


@console.post("/api-keys")
@role_required("admin")
@shows_fields_beside
def api_key_create():
    name, scopes = request.form.get("name", ""), request.form.getlist("scopes")
    form = {"name": _echo(name), "scopes": scopes}
    if unstorable := form_errors():
        return _keys_page(errors=unstorable, form=form, status=422)
    try:
        token = access.create_key(name, scopes)
    except access.KeyRefused as refused:
        return _keys_page(errors={refused.field: str(refused)}, form=form, status=422)
    return _keys_page(token=token, form={"created": name.strip()})


@console.post("/api-keys/<key_id>/revoke")
@role_required("admin")
def api_key_revoke(key_id):
    if not access.revoke_key(key_id[:40]):
        abort(404, "No such API key.")
    return redirect(url_for("console.api_keys"), 303)


# --- Subscriptions ----------------------------------------------------------------------


def _subscriptions_page(errors=None, form=None, created=None, secret=None, status=200):
    found = subscriptions.list_subscriptions()
    return render_template(
        "console/subscriptions.html",
        subscriptions=found,
        given_up=inspection.given_up_by_target([s.id for s in found]),
        event_types=EVENT_TYPES,
        errors=errors or {},
        form=form or {},
        created=created,
        secret=secret,
    ), status


@console.get("/subscriptions")
@role_required("admin")
def subscriptions_page():
    return _subscriptions_page()


@console.post("/subscriptions")
@role_required("admin")
@shows_fields_beside
def subscription_create():
    """The API's own schema and service check the form: one rule for the URL and the types."""
    form = {
        "url": request.form.get("url", "").strip(),
        "event_types": request.form.getlist("event_types"),
        "description": request.form.get("description", "").strip() or None,
    }
    try:
        if unstorable := form_errors():
            raise ValidationError(unstorable)
        created, secret = subscriptions.add_subscription(**SubscriptionCreateSchema().load(form))
    except ValidationError as error:
        errors = {field: _messages(messages) for field, messages in error.messages.items()}
    except Problem as problem:
        fields = problem.extensions.get("errors") or {"event_types": [problem.detail]}
        errors = {field: _messages(messages) for field, messages in fields.items()}
    else:
        return _subscriptions_page(created=created, secret=secret)
    echo = {**form, "url": _echo(form["url"]), "description": _echo(form["description"])}
    return _subscriptions_page(errors=errors, form=echo, status=422)


@console.post("/subscriptions/<subscription_id>/disable")
@role_required("admin")
def subscription_disable(subscription_id):
    try:
        subscriptions.disable_subscription(subscription_id[:40])
    except Problem:
        abort(404, "No such subscription.")
    return redirect(url_for("console.subscriptions_page"), 303)


# --- Sources ----------------------------------------------------------------------------


def _sources_page(errors=None, form=None, created=None, secret=None, status=200):
    return render_template(
        "console/sources.html",
        sources=sources.list_sources(),
        levels=EVIDENCE_LEVELS,
        cache_seconds=current_app.config["SOURCE_CACHE_SECONDS"],
        errors=errors or {},
        form=form or {},
        created=created,
        secret=secret,
    ), status


def _number(form, field: str, kind, errors: dict):
    """An optional number of the form (empty: the setting's default)."""
    text = (form.get(field) or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        errors[field] = "Enter a number." if kind is float else "Enter a whole number."
        return None


@console.get("/sources")
@role_required("admin")
def sources_page():
    return _sources_page()


@console.post("/sources")
@role_required("admin")
@shows_fields_beside
def source_create():
    """What ``loyalty-social source add`` takes: a name, the strongest evidence its events
    may claim, optional rate limits, and a secret, a public key or both."""
    form = request.form
    name = form.get("name", "").strip()
    public_key = form.get("public_key", "").strip() or None
    errors: dict[str, str] = form_errors()
    rate_limit = _number(form, "rate_limit", float, errors)
    rate_burst = _number(form, "rate_burst", int, errors)
    if not errors:
        try:
            secret = sources.add_source(
                name,
                form.get("max_evidence", ""),
                rate_limit,
                rate_burst,
                public_key=public_key,
                with_secret=bool(form.get("with_secret")) or not public_key,
            )
        except sources.SourceError as refused:
            errors[refused.field or "name"] = str(refused)
        else:
            return _sources_page(created=name, secret=secret)
    echo = {key: _echo(form.get(key)) for key in ("name", "max_evidence", "public_key")}
    echo.update(
        rate_limit=_echo(form.get("rate_limit"))[:32],
        rate_burst=_echo(form.get("rate_burst"))[:32],
        with_secret=bool(form.get("with_secret")),
    )
    return _sources_page(errors=errors, form=echo, status=422)


def _set_enabled(name: str, enabled: bool):
    """The service refuses the webhooks of a disabled source (as an unknown source's) and
    writes the audit record; every web process follows within SOURCE_CACHE_SECONDS."""
    try:
        sources.set_enabled(name[:64], enabled)
    except sources.SourceError:
        abort(404, "No such source.")
    return redirect(url_for("console.sources_page"), 303)


@console.post("/sources/<name>/disable")
@role_required("admin")
def source_disable(name):
    return _set_enabled(name, False)


@console.post("/sources/<name>/enable")
@role_required("admin")
def source_enable(name):
    return _set_enabled(name, True)
