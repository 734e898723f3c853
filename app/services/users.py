"""Changes to user accounts that have consequences for their sessions."""

from ..extensions import db
from ..models import User
from . import security_log, sessions


def deactivate(user: User, *, by: str = "operator") -> int:
    """Stop a user signing in, and end every session they have; returns how many sessions ended."""
    user.active = False
    db.session.commit()
    ended = sessions.end_all(user.id, sessions.EndReason.DEACTIVATED)
    security_log.event("user_deactivated", "succeeded", user_id=user.id, by=by, sessions_ended=ended)
    return ended
