"""Console users: accounts, roles, passwords (argon2id) and the account lock-out.

Roles are ordered: each holds everything of the ones before it. A viewer reads; an editor
writes rules, offers and drafts; an approver activates rules and decides held awards; an
admin manages users, sources, API keys and subscriptions. Every change writes its audit
record in the same transaction.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from .. import audit
from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from .models import ConsoleUser

ROLES = ("viewer", "editor", "approver", "admin")
MIN_PASSWORD = 12
MAX_PASSWORD = 256  # argon2 takes any length; a cap keeps a megabyte password from costing CPU
_EMAIL = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,189}\.[^@\s\x00]{1,63}$")


@functools.cache
def _hashers(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """argon2id with the configured cost (RFC 9106's second recommendation by default), and
    a hash verified when the email is unknown, so an unknown account costs the same time."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash("not-a-password-of-anyone")


def _hasher() -> PasswordHasher:
    return _costed()[0]


def _costed() -> tuple[PasswordHasher, str]:
    config = current_app.config
    return _hashers(config["CONSOLE_PASSWORD_TIME_COST"], config["CONSOLE_PASSWORD_MEMORY_KIB"])


class UserError(ValueError):
    """A refused change; the message is safe to show."""


class LoginRefused(Exception):
    """Wrong email or password, or a locked or disabled account (one message for all)."""

    def __init__(self, locked: bool = False):
        super().__init__("locked" if locked else "refused")
        self.locked = locked


@dataclass(frozen=True)
class Principal:
    """Who is signed in to the console, as the pages see it."""

    id: str
    email: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        return f"console:{self.id}"


def principal(user: ConsoleUser) -> Principal:
    return Principal(user.id, user.email, user.role)


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise UserError("Enter an email address like name@example.com.")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"The role must be one of {', '.join(ROLES)}.")
    return role


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(f"The password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    if "\x00" in password:
        raise UserError("The password cannot contain a NUL character.")
    return password


def _snapshot(user: ConsoleUser) -> dict:
    return {"email": user.email, "role": user.role, "disabled": user.disabled_at is not None}


def by_email(email: str) -> ConsoleUser | None:
    try:
        email = normalise_email(email)
    except UserError:
        return None
    return db.session.scalar(db.select(ConsoleUser).where(ConsoleUser.email == email))


def get(user_id: str) -> ConsoleUser | None:
    return db.session.get(ConsoleUser, user_id)


def list_users() -> list[ConsoleUser]:
    return list(db.session.scalars(db.select(ConsoleUser).order_by(ConsoleUser.email)))


def create_user(email: str, role: str, password: str | None) -> ConsoleUser:
    """A new account (no password: single sign-on only). Commits."""
    email, role = normalise_email(email), check_role(role)
    if password is not None:
        check_password(password)
    if by_email(email) is not None:
        raise UserError(f"A console user with the email {email} exists already.")
    user = ConsoleUser(
        id=new_id("usr"),
        email=email,
        role=role,
        password_hash=_hasher().hash(password) if password is not None else None,
        created_at=utcnow(),
        failed_logins=0,
    )
    db.session.add(user)
    audit.record("console_user.created", target=("console_user", user.id), after=_snapshot(user))
    db.session.commit()
    return user


def set_role(user_id: str, role: str) -> ConsoleUser:
    user = _existing(user_id)
    before = _snapshot(user)
    user.role = check_role(role)
    audit.record(
        "console_user.role_changed",
        target=("console_user", user.id),
        before=before,
        after=_snapshot(user),
    )
    db.session.commit()
    return user


def set_disabled(user_id: str, disabled: bool) -> ConsoleUser:
    user = _existing(user_id)
    before = _snapshot(user)
    user.disabled_at = (user.disabled_at or utcnow()) if disabled else None
    audit.record(
        "console_user.disabled" if disabled else "console_user.enabled",
        target=("console_user", user.id),
        before=before,
        after=_snapshot(user),
    )
    db.session.commit()
    return user


def set_password(user_id: str, password: str) -> None:
    user = _existing(user_id)
    user.password_hash = _hasher().hash(check_password(password))
    user.failed_logins, user.locked_until = 0, None
    audit.record("console_user.password_set", target=("console_user", user.id))
    db.session.commit()


def unlock(user_id: str) -> None:
    user = _existing(user_id)
    user.failed_logins, user.locked_until = 0, None
    audit.record("console_user.unlocked", target=("console_user", user.id))
    db.session.commit()


def _existing(user_id: str) -> ConsoleUser:
    user = get(user_id) or by_email(user_id)
    if user is None:
        raise UserError(f"No console user {user_id}.")
    return user


def authenticate(email: str, password: str) -> ConsoleUser:
    """The account for this email and password, or ``LoginRefused``. Counts failures on the
    account row (locked for CONSOLE_LOCKOUT_SECONDS after CONSOLE_LOCKOUT_ATTEMPTS in a row);
    while locked even the right password is refused. Commits the count."""
    config = current_app.config
    password = password if isinstance(password, str) else ""
    user = by_email(email) if len(password) <= MAX_PASSWORD else None
    now = utcnow()
    if user is None or user.password_hash is None:
        _verify(_costed()[1], password)
        raise LoginRefused()
    locked = user.locked_until is not None and user.locked_until > now
    if locked or user.disabled_at is not None or not _verify(user.password_hash, password):
        if not locked and user.disabled_at is None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= config["CONSOLE_LOCKOUT_ATTEMPTS"]:
                user.locked_until = now + timedelta(seconds=config["CONSOLE_LOCKOUT_SECONDS"])
                user.failed_logins = 0
                locked = True
                audit.record(
                    "console_user.locked",
                    target=("console_user", user.id),
                    after={"locked_until": user.locked_until},
                )
        db.session.commit()
        raise LoginRefused(locked=locked)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.session.commit()
    return user


def signed_in_by_sso(email: str | None) -> ConsoleUser | None:
    """The enabled account a provider's verified email names (SSO never creates one)."""
    user = by_email(email or "")
    if user is None or user.disabled_at is not None:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
