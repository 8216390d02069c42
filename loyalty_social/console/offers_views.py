"""Offers in the console: inventory (granted, redeemed, free codes), grants and redemptions
per day (rollups), and code pool import from a CSV file (bad lines reported with their line
numbers; all or nothing: ``rewards.code_import``)."""

from __future__ import annotations

from flask import abort, render_template, request

from ..analytics import queries, report
from ..errors import Problem
from ..extensions import db
from ..rewards import code_import, offers
from ..rewards.models import OfferGrant
from .analytics_views import csv_response, window
from .blueprint import console, nav_item, role_required

nav_item("Offers", "console.offers_page", "viewer", order=46)
MAX_UPLOAD = 20 * 1024 * 1024


def inventory() -> list[dict]:
    redeemed = dict(
        db.session.execute(
            db.select(OfferGrant.offer_id, db.func.count())
            .where(OfferGrant.status == "redeemed")
            .group_by(OfferGrant.offer_id)
        ).all()
    )
    rows = []
    for offer in offers.list_offers():
        rows.append(
            {
                "id": offer.id,
                "name": offer.name,
                "product": offer.product,
                "status": offer.status,
                "inventory": offer.inventory,
                "granted": offer.granted_count,
                "redeemed": redeemed.get(offer.id, 0),
                "uses_codes": offer.uses_codes,
                "free_codes": offers.free_codes(offer.id) if offer.uses_codes else None,
            }
        )
    return rows


@console.get("/offers")
def offers_page():
    since, until, errors = window()
    rows = inventory()
    series = []
    for chart, label in (("offers-granted", "granted"), ("offers-redeemed", "redeemed")):
        for row in report.series(chart, since, until)["rows"]:
            series.append({**row, "key": label})
    data = queries.pivot(series, since, until, "count")
    return render_template(
        "console/offers.html",
        offers=rows,
        chart=data,
        since=since,
        until=until,
        errors=errors,
    ), (422 if errors else 200)


@console.get("/offers.csv")
def offers_csv():
    header = ["id", "name", "product", "status", "inventory", "granted", "redeemed", "free_codes"]
    return csv_response("offers.csv", header, [[o[h] for h in header] for o in inventory()])


@console.post("/offers/codes")
@role_required("editor")
def offer_codes():
    """A CSV upload (htmx shows its progress): the result replaces the form's status area,
    and the offer's free codes in the inventory table (out of band), without a reload."""
    offer_id = (request.form.get("offer_id") or "")[:40]
    upload = request.files.get("codes")
    if upload is None or not upload.filename:
        return render_template("console/_codes_result.html", error="Choose a CSV file."), 422
    raw = upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return render_template(
            "console/_codes_result.html", error="The file is over 20 MB: split it."
        ), 422
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return render_template(
            "console/_codes_result.html", error="The file is not UTF-8 text."
        ), 422
    try:
        done = code_import.import_csv(offer_id, text)
    except Problem as problem:
        if problem.problem_type.slug == "not-found":
            abort(404, "No such offer.")
        db.session.rollback()
        return render_template(
            "console/_codes_result.html",
            error=problem.detail,
            lines=problem.extensions.get("lines") or [],
            bad=problem.extensions.get("bad_lines"),
        ), 422
    return render_template(
        "console/_codes_result.html",
        done=done,
        free=offers.free_codes(offer_id),
        offer_id=offer_id,
        oob=request.headers.get("HX-Request") == "true",  # the table's count follows
    )
