"""The identity tests' OpenID Connect provider: the Demo ID provider (oidc-provider-mock, PKCE
enforced; see loyalty_social/demo/provider.py) with no predefined people.
Run: ``python -m tests.identity.oidc_provider PORT``."""

from __future__ import annotations

import sys

from loyalty_social.demo.provider import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]), users=())
