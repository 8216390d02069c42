"""Flags to review: an approver marks an identity or a referral flag reviewed from the
operations page, with an optional note; it leaves the open list, says who and when, and the
audit log has it. The API resolves identity flags as it resolves referral flags (problem+json
for what it refuses) and lists them by status as it lists referral flags. Revision 0022 adds
the columns and comes off again."""

from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade

from loyalty_social.access.service import create_key
from loyalty_social.advocates.models import ReferralFlag
from loyalty_social.audit import service as audit_service
from loyalty_social.extensions import db
from loyalty_social.identity import service as identity
from loyalty_social.identity.flags import list_flags
from loyalty_social.identity.models import IdentityFlag
from loyalty_social.timeutil import utcnow

from ..helpers import drift_in


def raise_flags(app) -> tuple[str, str]:
    """One open identity flag and one open referral flag; returns their ids."""
    with app.app_context():
        identity.flag("demo", "sub-1", "repeat_signup", ["M-1", "M-2"], "second sign-up")
        db.session.add(
            ReferralFlag(
                id="rfl_1",
                kind="burst",
                sharer_id="M-1",
                referred_member_id="M-3",
                detail="12 referrals in an hour",
                created_at=utcnow(),
            )
        )
        db.session.commit()
        flag_id = list_flags()[0].id
        db.session.remove()
    return flag_id, "rfl_1"


def audit(app, action: str) -> list:
    with app.app_context():
        found = audit_service.search(action=action)
        db.session.remove()
        return found


def test_an_approver_marks_flags_reviewed_and_they_leave_the_open_lists(app, people, signed_in):
    identity_id, referral_id = raise_flags(app)
    viewer = signed_in("viewer").get("/console/operations").text
    assert identity_id in viewer and referral_id in viewer
    assert "Mark reviewed" not in viewer  # read-only below approver

    approver = signed_in("approver")
    page = approver.get("/console/operations").text
    assert page.count("Mark reviewed</button>") == 2
    done = approver.post(
        f"/console/operations/identity-flags/{identity_id}/resolve",
        {"resolution": "same person; one account kept"},
        page="/console/operations",
    )
    assert done.status_code == 200 and f"Flag {identity_id} marked reviewed." in done.text
    flags_table = re.search(r'<table id="flags">.*?</table>', done.text, re.S).group(0)
    assert identity_id not in flags_table and "No open flags." in flags_table
    with app.app_context():
        flag = db.session.get(IdentityFlag, identity_id)
        assert flag.reviewed_at is not None
        assert flag.reviewed_by == f"console:{people['approver']}"
        assert flag.resolution == "same person; one account kept"
        assert list_flags("open") == []
    (record,) = audit(app, "identity_flag.resolved")
    assert record.actor == f"console:{people['approver']}"
    assert record.after["resolution"] == "same person; one account kept"

    again = approver.post(
        f"/console/operations/identity-flags/{identity_id}/resolve", page="/console/operations"
    )
    assert again.status_code == 409 and "already reviewed" in again.text

    # A referral flag, without a note.
    done = approver.post(
        f"/console/operations/referral-flags/{referral_id}/resolve", page="/console/operations"
    )
    assert done.status_code == 200
    referral_table = re.search(r'<table id="referral-flags">.*?</table>', done.text, re.S)
    assert referral_id not in referral_table.group(0)
    (record,) = audit(app, "referral_flag.resolved")
    assert record.actor == f"console:{people['approver']}"
    missing = approver.post(
        "/console/operations/referral-flags/rfl_nothing/resolve", page="/console/operations"
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("note", "message"),
    [("x" * 513, "at most 512 characters"), ("bad\x00note", "NUL character")],
)
@pytest.mark.parametrize("kind", ["identity", "referral"])
def test_a_bad_note_is_shown_beside_the_flag_with_nothing_written(
    app, signed_in, kind, note, message
):
    flag_id = raise_flags(app)[kind == "referral"]
    approver = signed_in("approver")
    page = approver.post(
        f"/console/operations/{kind}-flags/{flag_id}/resolve",
        {"resolution": note},
        page="/console/operations",
    )
    assert page.status_code == 422
    beside = re.search(rf'id="note-{flag_id}-error"[^>]*>([^<]+)<', page.text)
    assert beside and message in beside.group(1), page.text
    assert f'id="note-{flag_id}" name="resolution"' in page.text
    with app.app_context():
        model = ReferralFlag if kind == "referral" else IdentityFlag
        column = "resolved_at" if kind == "referral" else "reviewed_at"
        assert getattr(db.session.get(model, flag_id), column) is None
    assert audit(app, f"{kind}_flag.resolved") == []


def test_the_api_resolves_identity_flags_like_referral_flags(app, client):
    identity_id, _ = raise_flags(app)
    with app.app_context():
        marketer = {"Authorization": f"Bearer {create_key('care-team', ['marketer'])}"}
        reader = {"Authorization": f"Bearer {create_key('reader', ['read'])}"}
    url = f"/api/v1/identity-flags/{identity_id}/resolve"
    body = {"resolution": "two accounts, one person"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=reader).status_code == 403
    for bad in ({}, {"resolution": ""}, {"resolution": "x" * 513}, {**body, "extra": 1}):
        refused = client.post(url, json=bad, headers=marketer)
        assert refused.status_code == 422, bad
        assert refused.mimetype == "application/problem+json"
        assert refused.json["type"].endswith("/validation-failed")
    done = client.post(url, json=body, headers=marketer)
    assert done.status_code == 200, done.json
    assert done.json["reviewed_by"] == "care-team" and done.json["resolution"] == body["resolution"]
    assert done.json["reviewed_at"]
    assert client.get("/api/v1/identity-flags", headers=marketer).json["items"] == []
    again = client.post(url, json=body, headers=marketer)
    assert again.status_code == 409 and again.json["type"].endswith("/conflict")
    missing = client.post("/api/v1/identity-flags/flg_nothing/resolve", json=body, headers=marketer)
    assert missing.status_code == 404 and missing.json["type"].endswith("/not-found")
    (record,) = audit(app, "identity_flag.resolved")
    assert record.actor == "key:care-team"


def test_the_api_lists_identity_flags_by_status_like_referral_flags(app, client):
    """``status`` is open (the default), resolved or all on both lists; anything else is the
    same validation problem on both."""
    identity_id, referral_id = raise_flags(app)
    with app.app_context():
        identity.flag("demo", "sub-2", "signup_while_linked", ["M-4"], "linked elsewhere")
        marketer = {"Authorization": f"Bearer {create_key('care-team', ['marketer'])}"}
    body = {"resolution": "one person"}
    done = client.post(f"/api/v1/identity-flags/{identity_id}/resolve", json=body, headers=marketer)
    assert done.status_code == 200
    client.post(f"/api/v1/referral-flags/{referral_id}/resolve", json=body, headers=marketer)

    def ids(path, query=""):
        answer = client.get(f"/api/v1/{path}{query}", headers=marketer)
        assert answer.status_code == 200, answer.json
        return [item["id"] for item in answer.json["items"]]

    open_ = ids("identity-flags")
    assert identity_id not in open_ and len(open_) == 1
    assert ids("identity-flags", "?status=open") == open_
    assert ids("identity-flags", "?status=resolved") == [identity_id]
    assert set(ids("identity-flags", "?status=all")) == {identity_id, *open_}
    assert ids("identity-flags", "?status=all&limit=1") == ids("identity-flags", "?status=all")[:1]
    assert ids("referral-flags", "?status=resolved") == [referral_id]
    assert ids("referral-flags") == []
    for path in ("identity-flags", "referral-flags"):
        for query in ("?status=closed", "?status=", "?limit=0", "?limit=501"):
            refused = client.get(f"/api/v1/{path}{query}", headers=marketer)
            assert refused.status_code == 422, (path, query)
            assert refused.mimetype == "application/problem+json"
            assert refused.json["type"].endswith("/validation-failed")
        assert client.get(f"/api/v1/{path}?status=closed").status_code == 401


def test_revision_0022_adds_and_removes_the_review_columns(fresh_config, make_app):
    import sqlalchemy as sa

    app = make_app(fresh_config)
    with app.app_context():
        assert drift_in({"identity_flag"}) == []

        def columns():
            return {c["name"] for c in sa.inspect(db.engine).get_columns("identity_flag")}

        assert {"reviewed_by", "resolution"} <= columns()
        downgrade(revision="0021_rollup_grains")
        assert not {"reviewed_by", "resolution"} & columns() and "reviewed_at" in columns()
        upgrade()
        assert {"reviewed_by", "resolution"} <= columns()
        db.engine.dispose()
