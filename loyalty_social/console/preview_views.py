"""Preview a rule's draft (or proposed change) against a real stored event, or a sample typed
in: what would happen, clause by clause. Writes nothing (rules.preview rolls back)."""

from __future__ import annotations

import json

from flask import abort, render_template, request
from marshmallow import ValidationError

from ..intake.service import get_event
from ..rules import reviews
from ..rules.documents import RuleError, document, validate_document
from ..rules.preview import preview
from ..rules.schemas import SampleEventSchema
from .blueprint import console, role_required
from .rules_views import _rule


@console.post("/rules/<rule_id>/preview")
@role_required("viewer")
def rule_preview(rule_id):
    """The proposal when there is one (what would be activated), else the live rule."""
    rule = _rule(rule_id)
    doc = reviews.proposal(rule) or document(rule)
    try:
        loaded = validate_document(doc)
        sample, member_id = _sample(request.form)
    except (RuleError, ValueError, ValidationError) as error:
        message = error.messages if isinstance(error, ValidationError) else str(error)
        return _render(rule, error=message), 422
    result = preview({"rule": loaded, "member_id": member_id, "event": sample})
    return _render(rule, result=result, sample=sample, member_id=member_id)


def _render(rule, **context):
    """The result alone for htmx; without JavaScript, a page around it."""
    fragment = request.headers.get("HX-Request") == "true"
    template = "console/rules/_preview.html" if fragment else "console/rules/preview_page.html"
    return render_template(template, rule=rule, **context)


def _sample(form) -> tuple[dict, str]:
    event_id = (form.get("event_id") or "").strip()
    if event_id:
        event = get_event(event_id[:40])
        if event is None:
            abort(404, "No such event.")
        return {
            "type": event.type,
            "data": event.data,
            "evidence": event.evidence,
            "occurred_at": event.occurred_at,
        }, event.member_id
    member_id = (form.get("member_id") or "").strip()[:128]
    if not member_id:
        raise ValueError("Pick a stored event, or give a member id with a sample event.")
    try:
        raw = json.loads(form.get("event_json") or "")
    except ValueError as error:
        raise ValueError(f"The sample event is not valid JSON: {error}.") from None
    return SampleEventSchema().load(raw), member_id
