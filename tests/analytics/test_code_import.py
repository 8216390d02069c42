"""Code pools from CSV: bad lines reported with line numbers and nothing imported; a good file
imported whole; a repeat adds nothing."""

from __future__ import annotations

import pytest

from loyalty_social.errors import Problem
from loyalty_social.extensions import db
from loyalty_social.rewards import code_import, offers


def _offer(app) -> str:
    with app.app_context():
        offer = offers.create_offer(
            {"name": "Early boots", "product": "SKU-B", "inventory": 10, "uses_codes": True}
        )
        db.session.commit()
        return offer.id


def test_bad_lines_are_reported_and_nothing_is_imported(any_app):
    offer_id = _offer(any_app)
    text = "code\nGOOD-1\nGOOD-2\n\nGOOD-1\n" + "X" * 201 + "\nA,B\n tail \nGOOD-3\n"
    with any_app.app_context():
        with pytest.raises(Problem) as refused:
            code_import.import_csv(offer_id, text)
        problem = refused.value
        assert problem.problem_type.slug == "validation-failed"
        assert problem.extensions["bad_lines"] == 4
        assert [(e["line"], e["message"]) for e in problem.extensions["lines"]] == [
            (5, "the same code as line 2"),
            (6, "longer than 200 characters"),
            (7, "one code per line (found several columns)"),
            (8, "spaces before or after the code"),
        ]
        assert offers.free_codes(offer_id) == 0
        db.session.remove()


def test_a_good_file_imports_whole_and_a_repeat_adds_nothing(any_app):
    offer_id = _offer(any_app)
    text = "\r\n".join(f"EARLY-{i:05d}" for i in range(2500)) + "\r\n"
    with any_app.app_context():
        done = code_import.import_csv(offer_id, text)
        assert (done.codes, done.added) == (2500, 2500)
        again = code_import.import_csv(offer_id, text)
        assert (again.codes, again.added) == (2500, 0)
        assert offers.free_codes(offer_id) == 2500
        with pytest.raises(Problem):
            code_import.import_csv(offer_id, "A\x00B\n")
        db.session.remove()
