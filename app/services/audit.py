"""The audit log of round changes, submissions, reopenings, invitations, role changes, imports and exports.

`record` adds an event to the current transaction (the caller commits it with the change it describes), so a
change and its record are saved together or not at all. Nothing in the application updates or deletes one.
"""

from flask import has_request_context
from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent, Organisation, OrgKind, User
from .security_log import client_address


def area_of(organisation: Organisation) -> int | None:
    """The ICB an organisation's events belong to: the ICB itself, or the ICB whose area it is in."""
    if organisation.kind == OrgKind.ICB:
        return organisation.id
    return organisation.area_id


def record(
    action: str,
    summary: str,
    *,
    area_id: int | None,
    user: User | None = None,
    round_id: int | None = None,
) -> AuditEvent:
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    entry = AuditEvent(
        action=action,
        summary=summary[:2000],
        area_id=area_id,
        round_id=round_id,
        user_id=user.id if user else None,
        user_email=user.email if user else "",
        address=client_address(),
    )
    db.session.add(entry)
    return entry
