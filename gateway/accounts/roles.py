"""Roles and what each may do. Training is checked separately, before any of this."""

from __future__ import annotations

ROLES = ("officer", "supervisor", "administrator", "technician", "auditor")

# reads: see stored reads and images (live view, read detail)
# alerts: see and work alerts; covert: also alerts from covert lists
# search: search stored reads (with a purpose); hotlists: view lists
# wanted: add officer "new wanted" entries; devices: board health and frames
# audit: read the access record; admin: users, training, unlocking, holds, exports
PERMISSIONS: dict[str, frozenset[str]] = {
    "officer": frozenset({"reads", "alerts", "search", "hotlists", "wanted", "devices"}),
    "supervisor": frozenset(
        {"reads", "alerts", "covert", "search", "hotlists", "wanted", "devices", "audit"}
    ),
    "administrator": frozenset(
        {"reads", "alerts", "covert", "search", "hotlists", "wanted", "devices", "audit", "admin"}
    ),
    "technician": frozenset({"devices"}),
    "auditor": frozenset({"audit"}),
}


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def home_endpoint(role: str) -> str:
    """The first screen after sign-in: the live view for those who may see reads."""
    if can(role, "reads"):
        return "live.index"
    if can(role, "devices"):
        return "devices.index"
    return "admin.audit"
