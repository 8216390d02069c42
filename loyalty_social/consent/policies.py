"""Consent purposes and their versioned policy texts.

The purposes, their plain-words descriptions and policy texts are configuration
(CONSENT_PURPOSES); the versions are data. The first time a process uses a text that differs
from the purpose's latest published version, it publishes the next version in the caller's
transaction (a concurrent publisher of the same version loses on the primary key and reads
the winner's). A version flagged ``requires_fresh_consent`` makes consents given under earlier
versions stop counting: ``fresh_from`` is the SQL that says from which version they count, so
every process honours a new version the moment it is committed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..timeutil import utcnow
from .models import ConsentPolicy

_CACHE = "loyalty_social.consent.versions"
_PUBLISHED = "loyalty_social.consent.published"


class ConsentError(ValueError):
    """An unknown purpose, source or policy version; the message says which."""


@dataclass(frozen=True)
class Purpose:
    name: str
    label: str
    description: str
    policy: str
    version: int  # the version of ``policy``, the one members are shown now
    requires_fresh_consent: bool


def names() -> list[str]:
    return list(current_app.config["CONSENT_PURPOSES"])


def check(purpose: str) -> None:
    if purpose not in current_app.config["CONSENT_PURPOSES"]:
        raise ConsentError(f"unknown purpose {purpose!r}; one of {', '.join(names())}")


def purposes() -> dict[str, Purpose]:
    """Every configured purpose with the version its current text was published as."""
    versions = current_versions()
    return {
        name: Purpose(
            name=name,
            label=str(options.get("label") or name.replace("_", " ").capitalize()),
            description=options["description"].strip(),
            policy=options["policy"].strip(),
            version=versions[name],
            requires_fresh_consent=bool(options.get("requires_fresh_consent", False)),
        )
        for name, options in current_app.config["CONSENT_PURPOSES"].items()
    }


def current_versions() -> dict[str, int]:
    """Purpose -> version of its configured text, publishing a changed text once. Cached per
    process only when every version was already in the database before this transaction
    (a version published here is gone again if the caller rolls back)."""
    cached = current_app.extensions.get(_CACHE)
    if cached is not None:
        return cached
    latest = _latest()
    versions = {}
    for name, options in current_app.config["CONSENT_PURPOSES"].items():
        text = options["policy"].strip()
        row = latest.get(name)
        if row is not None and row.text_sha256 == _digest(text):
            versions[name] = row.version
        else:
            versions[name] = _publish(name, text, options, row.version if row else 0)
    if db.session.info.get(_PUBLISHED) is not db.session().get_transaction():
        current_app.extensions[_CACHE] = versions
    return versions


def _latest() -> dict[str, ConsentPolicy]:
    newest = (
        select(ConsentPolicy.purpose, func.max(ConsentPolicy.version).label("version"))
        .group_by(ConsentPolicy.purpose)
        .subquery()
    )
    query = select(ConsentPolicy).join(
        newest,
        (ConsentPolicy.purpose == newest.c.purpose) & (ConsentPolicy.version == newest.c.version),
    )
    return {row.purpose: row for row in db.session.scalars(query)}


def _publish(purpose: str, text: str, options: dict, after: int) -> int:
    """Publish ``text`` as the version after ``after``; if another process got there first
    with the same text, use its version."""
    digest = _digest(text)
    for _ in range(5):
        row = ConsentPolicy(
            purpose=purpose,
            version=after + 1,
            text=text,
            text_sha256=digest,
            requires_fresh_consent=bool(options.get("requires_fresh_consent", False)) and after > 0,
            published_at=utcnow(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
            db.session.info[_PUBLISHED] = db.session().get_transaction()
            return row.version
        except IntegrityError:
            winner = _latest().get(purpose)
            if winner is not None and winner.text_sha256 == digest:
                return winner.version
            after = winner.version if winner is not None else after
    raise ConsentError(f"could not publish a policy version of {purpose!r}; try again")


def fresh_from(purpose: str):
    """SQL for the lowest policy version whose consents count (1 until a version requiring
    fresh consent is published)."""
    return (
        select(func.coalesce(func.max(ConsentPolicy.version), 1))
        .where(ConsentPolicy.purpose == purpose, ConsentPolicy.requires_fresh_consent.is_(True))
        .scalar_subquery()
    )


def versions(purpose: str) -> list[ConsentPolicy]:
    """Every published version of a purpose's policy, oldest first."""
    check(purpose)
    current_versions()
    query = select(ConsentPolicy).where(ConsentPolicy.purpose == purpose)
    return list(db.session.scalars(query.order_by(ConsentPolicy.version)))


def counting_from() -> dict[str, int]:
    """Purpose -> the lowest policy version whose consents count, for every purpose."""
    current_versions()
    rows = db.session.execute(
        select(ConsentPolicy.purpose, func.max(ConsentPolicy.version))
        .where(ConsentPolicy.requires_fresh_consent.is_(True))
        .group_by(ConsentPolicy.purpose)
    )
    found = dict(rows.all())
    return {name: found.get(name, 1) for name in names()}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
