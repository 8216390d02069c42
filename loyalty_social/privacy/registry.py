"""What each feature holds about a member, and how it forgets it: features register an
exporter and an eraser at app start, so this package imports none of them.

``register(app, name, export=fn, erase=fn, order=50)``:

- ``export(member_id) -> JSON-safe value``: everything the feature holds about the member
  (never secrets or tokens); shown under ``name`` in the export.
- ``erase(erasure) -> dict[str, int]``: remove or irreversibly anonymise it, in the
  erasure's transaction (flush, never commit); returns counts of what it did (no ids).
  ``erasure`` is an ``Erasure``: the member id, the random id their financial records move
  to (``anonymous_id``), and who asked (``actor``). Erasers run in ascending ``order``: the
  anonymous member row exists from order 10, the member row goes at 90.
- ``members() -> iterable of member ids`` (optional): every member id the feature holds,
  for re-applying the erasure log after a restore (``service.replay``).
- Both must be idempotent: erasing twice finds nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

_KEY = "loyalty_social.privacy.registry"


@dataclass(frozen=True)
class Erasure:
    member_id: str
    anonymous_id: str
    actor: str


@dataclass(frozen=True)
class Part:
    name: str
    export: Callable[[str], object] | None
    erase: Callable[[Erasure], dict] | None
    order: int
    members: Callable[[], object] | None = None


def register(
    app: Flask,
    name: str,
    *,
    export: Callable[[str], object] | None = None,
    erase: Callable[[Erasure], dict] | None = None,
    order: int = 50,
    members: Callable[[], object] | None = None,
) -> None:
    parts = app.extensions.setdefault(_KEY, {})
    if name in parts:
        raise ValueError(f"privacy part {name!r} is registered twice")
    parts[name] = Part(name, export, erase, order, members)


def parts() -> list[Part]:
    """Registered parts, in erasure order (then by name)."""
    return sorted(current_app.extensions.get(_KEY, {}).values(), key=lambda p: (p.order, p.name))


def as_dict(row, columns: tuple[str, ...]) -> dict:
    """A row's named columns as JSON-safe values (times as ISO 8601 UTC)."""
    result = {}
    for name in columns:
        value = getattr(row, name)
        result[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return result
