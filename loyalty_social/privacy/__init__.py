"""Privacy: export of everything held about a member, erasure with a tombstone, the erasure
log. Features plug in with ``registry.register`` at app start (see its docstring)."""

from .registry import Erasure, as_dict, register
from .tombstones import Tombstones, erased_among, is_erased, member_hash

__all__ = [
    "Erasure",
    "Tombstones",
    "as_dict",
    "erased_among",
    "init_app",
    "is_erased",
    "member_hash",
    "register",
]


def init_app(app) -> None:
    from ..extensions import api
    from . import analytics_records, audit_records
    from .api import erasures_api

    register(
        app, "audit", export=audit_records.export_audit, erase=audit_records.erase_audit, order=80
    )
    register(
        app,
        "analytics",
        export=analytics_records.export_rollups,
        erase=analytics_records.erase_rollups,
        order=80,
    )
    api.register_blueprint(erasures_api)
