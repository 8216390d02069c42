"""Advocates tests. Share links: an app whose share allow-list names two brand sites, links
trusted for no time (a disabled link 404s at once), clicks written at once. Levels: the rules
tests' apps (real processing on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from ..helpers import seed
from ..identity.conftest import oidc_provider  # noqa: F401 (the provider process fixture)
from ..rules.conftest import any_app, pg_rapp, rapp  # noqa: F401 (the levels tests' apps)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{n}.0"
TARGETS = "shop.example,https://www.example.org/campaign/"
SETTINGS = {
    "SHARE_LINK_TARGETS": TARGETS,
    "SHARE_LINK_CACHE_SECONDS": 0,
    "SHARE_CLICK_LINGER_SECONDS": 0,
}
SCOPES = ("read", "operator", "backend", "marketer")


@pytest.fixture
def adv_config(stack_config):
    return {**stack_config, **SETTINGS}


@pytest.fixture
def adv_app(adv_config, make_app):
    return make_app(adv_config)


@pytest.fixture
def adv_client(adv_app):
    return adv_app.test_client()


def seeded(app, rules=()):
    return seed(app, rules=rules, scopes=SCOPES)


def browser(n: int) -> str:
    """A person's browser: a different version is a different visitor for the hash."""
    return BROWSER.format(n=n)


def flush_clicks(app) -> None:
    from loyalty_social.advocates.clicks import writer

    assert writer(app).flush(30), "click writer did not drain"
