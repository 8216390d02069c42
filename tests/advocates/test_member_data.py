"""A member's advocates data in their export, and gone (or anonymised) after erasure: their
links and the clicks on them; the referral that named them kept for the sharer under an
anonymous id. Erasing twice finds nothing the second time (SQLite and PostgreSQL)."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from loyalty_social.advocates.member_data import erase_member, export_member
from loyalty_social.extensions import db

from ..helpers import drain
from .conftest import seeded
from .test_links import make_link
from .test_referrals import click, events, send, settle


def count(app, table, **where):
    clause = " and ".join(f"{k} = :{k}" for k in where) or "1 = 1"
    with app.app_context():
        return db.session.scalar(sa.text(f"select count(*) from {table} where {clause}"), where)


def test_export_and_erasure(adv_client, adv_app):
    keys = seeded(adv_app)
    sharer = make_link(adv_client, keys["auth"], member="M-gone")["code"]
    other = make_link(adv_client, keys["auth"], member="M-stays")["code"]
    cookie = click(adv_app, sharer, 1)
    click(adv_app, other, 2)
    settle(adv_app)
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-friend",
        {"via": "email", "referral_code": cookie},
    )
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-gone",
        {"via": "email", "referral_code": other},
    )  # M-gone was referred by M-stays
    drain(adv_app)
    drain(adv_app)
    with adv_app.app_context():
        exported = export_member("M-gone")
    [link] = exported["share_links"]
    assert link["code"] == sharer and link["clicks"] == 1
    assert exported["referrals_made"] == {"credited": 1}
    assert exported["referred_through_a_share_link_at"] is not None
    assert "M-friend" not in repr(exported) and "M-stays" not in repr(exported)

    erasure = SimpleNamespace(member_id="M-gone", anonymous_id="anon-1", actor="test")
    with adv_app.app_context():
        counts = erase_member(erasure)
        db.session.commit()
        again = erase_member(erasure)
        db.session.commit()
    assert counts["share_links"] == 1 and counts["clicks"] == 1 and counts["referrals"] == 1
    assert counts["referred_anonymised"] == 1
    assert again == {
        "clicks": 0,
        "referral_flags": 0,
        "referrals": 0,
        "share_links": 0,
        "referred_anonymised": 0,
    }
    assert count(adv_app, "share_link", member_id="M-gone") == 0
    assert count(adv_app, "share_click", link_code=sharer) == 0
    assert count(adv_app, "share_link", member_id="M-stays") == 1  # others' data stays
    assert count(adv_app, "referral", referred_member_id="anon-1", sharer_id="M-stays") == 1
    [attributed] = [e for e in events(adv_app, "referral.attributed") if e.member_id == "M-stays"]
    assert attributed.data["referred_member_id"] == "anon-1"
