"""The one decorator every REST endpoint uses to demand a bearer API key with a scope."""

import functools

from flask import g, request

from ..audit.actor import set_actor
from ..errors import Problem
from .service import authenticate

SECURITY = [{"apiKey": []}]


def current_principal():
    """Authenticate the request's bearer key (401 when missing or wrong)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            "unauthenticated",
            "Send an API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(token.strip())
    if principal is None:
        raise Problem(
            "unauthenticated",
            "The API key is unknown or revoked.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def require_scope(scope: str):
    """401 without a valid key, 403 when the key lacks ``scope``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if not principal.allows(scope):
                raise Problem("forbidden", f"This endpoint needs the '{scope}' scope.")
            g.principal = principal
            if "_audit_actor_token" not in g:
                g._audit_actor_token = set_actor(f"key:{principal.name}")
            return view(*args, **kwargs)

        wrapper._required_scope = scope
        return wrapper

    return decorator
