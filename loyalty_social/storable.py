"""Text that every database we run on can store, checked before anything is written.

PostgreSQL refuses a NUL character (U+0000) in any text, and psycopg refuses a lone UTF-16
surrogate (it cannot be encoded as UTF-8); SQLite stores both. Input that would fail only on
PostgreSQL, and only at commit time, is refused up front, with the field named, the same way
on both databases: a write that fails takes its whole transaction with it (for intake, the
group commit of other senders' events).

``refuse_unstorable_input`` applies the check to every Flask request (path, query, JSON body,
form; a console form marked ``shows_fields_beside`` checks its own, to say so beside the
field); the webhook endpoint checks its bodies itself (``unstorable_fields``). It also bounds
the path values that routes store as they are (a consent is keyed by the ``member_id`` in its
URL): longer than their column, PostgreSQL refuses them and SQLite stores them.
"""

from __future__ import annotations

import re

from flask import current_app, request

from .errors import Problem

# NUL, and lone surrogates (json.loads turns "\ud800" into one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Contains a NUL character (\\u0000) or a lone surrogate, which cannot be stored."
# Path values that a route may write, by name, and their column's length.
PATH_LIMITS = {"member_id": 128}


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def unstorable_fields(value) -> dict:
    """``{field: [message]}`` (nested as the value is) for every string, key included, that
    cannot be stored; empty when all can be."""
    if isinstance(value, str):
        return {} if is_storable(value) else {"_value": [MESSAGE]}
    errors: dict = {}
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if not is_storable(name):
                errors[name.encode("unicode_escape").decode()] = [MESSAGE]
                continue
            found = unstorable_fields(item)
            if found:
                errors[name] = found.get("_value", found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_fields(item)
            if found:
                errors[index] = found.get("_value", found)
    return errors


FIELD_MESSAGE = "This cannot contain a NUL character (or a lone surrogate)."


def shows_fields_beside(view):
    """Mark a page's form view that shows unstorable fields beside the field (a console form):
    the hook lets its form through, and the view must ask ``form_errors()`` before writing."""
    view.shows_unstorable_fields = True
    return view


def form_errors() -> dict[str, str]:
    """``{field: message}`` for each form field whose text cannot be stored."""
    return {
        name: FIELD_MESSAGE
        for name, value in request.form.items(multi=True)
        if not is_storable(name) or not is_storable(value)
    }


def _form_checked_by_view() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "shows_unstorable_fields", False))


def _request_errors() -> dict:
    errors = {}
    if not is_storable(request.path):
        errors["path"] = [MESSAGE]
    else:
        too_long = {
            name: [f"Longer than {limit} characters."]
            for name, limit in PATH_LIMITS.items()
            if len((request.view_args or {}).get(name) or "") > limit
        }
        if too_long:
            errors["path"] = too_long
    query = {
        name: [MESSAGE]
        for name, values in request.args.lists()
        if not is_storable(name) or not all(is_storable(v) for v in values)
    }
    if query:
        errors["query"] = {name.encode("unicode_escape").decode(): m for name, m in query.items()}
    if request.is_json:
        body = unstorable_fields(request.get_json(silent=True))
        if body:
            errors["json"] = body
    form = {name: [MESSAGE] for name, value in request.form.items() if not is_storable(value)}
    if form and not _form_checked_by_view():
        errors["form"] = form
    return errors


def refuse_unstorable_input():
    """A before-request hook: 422 naming each field that holds unstorable text."""
    errors = _request_errors()
    if errors:
        raise Problem(
            "validation-failed",
            "The request holds text that cannot be stored.",
            errors=errors,
        )


def init_app(app) -> None:
    app.before_request(refuse_unstorable_input)
