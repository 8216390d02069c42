"""Privacy fixtures: the identity tests' real OpenID Connect provider, and a member who did
everything the service records."""

from __future__ import annotations

from ..identity.conftest import id_app, id_config, oidc_provider  # noqa: F401  (fixtures)
