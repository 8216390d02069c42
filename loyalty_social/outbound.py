"""Outbound events announced by the domain (``consent.changed``, ``social.linked``, ...).

The domain layer may not import the delivery pipeline, so delivery registers its outbox writer
here when the app starts; ``publish`` then writes the event in the caller's transaction, and
the event is sent only if that transaction commits. Without delivery nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

_KEY = "loyalty_social.outbound"


def register(app: Flask, writer: Callable[[str, dict], object]) -> None:
    app.extensions[_KEY] = writer


def publish(event_type: str, data: dict) -> None:
    writer = current_app.extensions.get(_KEY)
    if writer is not None:
        writer(event_type, data)
