"""The analytics funnel (share -> click -> sign-up) counted by the advocates' write paths,
once each, and recomputed the same from history by ``analytics rebuild``."""

from __future__ import annotations

from loyalty_social.analytics import rebuild, report
from loyalty_social.extensions import db

from ..helpers import drain
from .conftest import seeded
from .test_links import make_link
from .test_referrals import click, send, settle


def funnel(app) -> list[int]:
    with app.app_context():
        steps = report.funnel()["steps"]
        db.session.remove()
    return [s["count"] for s in steps]


def test_links_human_clicks_and_sign_ups_fill_the_funnel(adv_client, adv_app):
    keys = seeded(adv_app)
    code = make_link(adv_client, keys["auth"], member="M-sharer")["code"]
    make_link(adv_client, keys["auth"], member="M-sharer")  # the same link again: not a share
    other = make_link(adv_client, keys["auth"], member="M-2", url="https://shop.example/p/2")
    cookie = click(adv_app, code, 1)
    click(adv_app, code, 1)  # the same visitor again: a repeat, not counted
    click(adv_app, code, 2)
    click(adv_app, other["code"], 3)
    settle(adv_app)
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-friend",
        {"via": "email", "referral_code": cookie},
    )
    drain(adv_app)
    assert funnel(adv_app) == [2, 3, 1]
    with adv_app.app_context():
        rebuild.rebuild()
        db.session.remove()
    assert funnel(adv_app) == [2, 3, 1]
