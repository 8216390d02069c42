"""The audit log page: console changes are recorded with the console user as the actor, and
the page filters by who, what, which record and when."""

from __future__ import annotations

import re

from loyalty_social.audit import acting_as, record
from loyalty_social.extensions import db

from .conftest import PEOPLE


def rows(page) -> list[str]:
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_console_changes_are_audited_with_the_user_and_filterable(app, signed_in, people):
    admin = signed_in("admin")
    made = admin.post(
        "/console/users",
        {"email": "new@example.test", "role": "editor", "password": "a long password here"},
        page="/console/users",
    )
    assert made.status_code == 303
    with app.app_context(), acting_as("key:integration"):
        record(
            "rule.activated",
            target=("rule", "rul_1"),
            before={"status": "draft"},
            after={"status": "active"},
        )
        db.session.commit()

    viewer = signed_in("viewer")  # a viewer reads the log
    everything = viewer.get("/console/audit")
    assert everything.status_code == 200
    mine = viewer.get("/console/audit", query_string={"actor": f"console:{people['admin']}"})
    assert len(rows(mine)) == 1 and "console_user.created" in rows(mine)[0]
    assert PEOPLE["admin"] in rows(mine)[0]  # the person, not an id
    by_action = viewer.get("/console/audit", query_string={"action": "rule."})
    assert len(rows(by_action)) == 1 and "key:integration" in rows(by_action)[0]
    assert '"status": "active"' in rows(by_action)[0]
    by_target = viewer.get(
        "/console/audit", query_string={"target_kind": "rule", "target_id": "rul_1"}
    )
    assert len(rows(by_target)) == 1
    future = viewer.get("/console/audit", query_string={"since": "2999-01-01"})
    assert "No change matches" in future.text
    today = viewer.get(
        "/console/audit", query_string={"since": "2000-01-01", "until": "2999-01-01"}
    )
    assert len(rows(today)) >= 2


def test_bad_filters_are_shown_beside_the_field(signed_in):
    viewer = signed_in("viewer")
    page = viewer.get("/console/audit", query_string={"since": "yesterday", "until": "2020-01-01"})
    assert page.status_code == 422
    assert 'id="e-since"' in page.text and 'aria-invalid="true"' in page.text
    long = viewer.get("/console/audit", query_string={"action": "x" * 5000 + "\x00"})
    assert long.status_code in (200, 422)
