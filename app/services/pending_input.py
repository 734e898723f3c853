"""Keep what someone typed when their session ended mid-page, and give it back after they sign in again."""

import json
import secrets
from datetime import timedelta

from sqlalchemy import delete
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import PendingInput
from ..models.base import utcnow
from ..queries.assessments import get_pending_input

KEEP_FOR = timedelta(days=2)
NOT_KEPT = {"csrf_token", "password"}
MAX_KEPT = 100_000  # characters: far more than any page's fields can hold


def stash(path: str, form: MultiDict, user_id: int) -> str | None:
    """Keep a page's typed input for its author; None when there is nothing worth keeping (or too much)."""
    data = [(key, value) for key, value in form.items(multi=True) if key not in NOT_KEPT]
    if not any(value.strip() for _, value in data):
        return None
    encoded = json.dumps(data)
    if len(encoded) > MAX_KEPT:
        return None
    token = secrets.token_urlsafe(32)
    db.session.execute(delete(PendingInput).where(PendingInput.created_at < utcnow() - KEEP_FOR))
    db.session.add(PendingInput(token=token, user_id=user_id, path=path, data=encoded))
    db.session.commit()
    return token


def take(token: str | None, path: str, user_id: int) -> MultiDict | None:
    """The kept input for this page, once, and only for the user who typed it."""
    if not token:
        return None
    pending = get_pending_input(token)
    if pending is None or pending.path != path or pending.user_id != user_id:
        return None
    data = MultiDict(json.loads(pending.data))
    db.session.delete(pending)
    db.session.commit()
    return data
