"""Keep what someone typed when their session ended mid-page, and give it back after they sign in again.

Kept only for honest cases: a POST from a page of this site (checked by the caller) whose session had ended —
idle, past its lifetime, or its cookies gone. Each browser holds at most one kept page (its token is in that
browser's cookie), each user at most PER_USER; input that no known user owns is smaller, capped per address (an
IPv6 /64 counts as one), and in all, where the oldest makes way for the newest.
"""

import json
import secrets
from datetime import timedelta

from sqlalchemy import delete
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import PendingInput
from ..models.base import as_utc, utcnow
from ..queries.assessments import (
    count_unclaimed_pending_input,
    get_pending_input,
    oldest_unclaimed_pending_input,
    pending_input_tokens,
)

KEEP_FOR = timedelta(days=2)
NOT_KEPT = {"csrf_token", "password", "current_password", "new_password", "confirm_password"}
MAX_KEPT = 100_000  # characters: far more than any page's fields can hold
MAX_UNCLAIMED = 20_000  # characters, for input no known user owns: a full domain page with every note is about 13,000
MAX_PATH = 500
PER_USER = 5
UNCLAIMED_PER_ADDRESS = 20  # a practice's staff may share one address
UNCLAIMED_IN_ALL = 1_000  # beyond this the oldest unclaimed input goes, so that honest input is never refused


def keepable_path(path: str) -> bool:
    return len(path) <= MAX_PATH and not any(ord(ch) < 32 or ord(ch) == 127 for ch in path)


def stash(path: str, form: MultiDict, user_id: int | None, address: str, replaces: str | None = None) -> str | None:
    """Keep a page's typed input; None when there is nothing worth keeping, too much, or the caps are reached."""
    if not keepable_path(path):
        return None
    data = [(key, value) for key, value in form.items(multi=True) if key not in NOT_KEPT]
    if not any(value.strip() for _, value in data):
        return None
    encoded = json.dumps(data)
    if len(encoded) > (MAX_KEPT if user_id is not None else MAX_UNCLAIMED):
        return None
    db.session.execute(delete(PendingInput).where(PendingInput.created_at < utcnow() - KEEP_FOR))
    if replaces:
        db.session.execute(delete(PendingInput).where(PendingInput.token == replaces))
    if user_id is None:
        if count_unclaimed_pending_input(address) >= UNCLAIMED_PER_ADDRESS:
            db.session.commit()
            return None
        surplus = count_unclaimed_pending_input() - UNCLAIMED_IN_ALL + 1
        if surplus > 0:
            db.session.execute(
                delete(PendingInput).where(PendingInput.token.in_(oldest_unclaimed_pending_input(surplus)))
            )
    token = secrets.token_urlsafe(32)
    db.session.add(PendingInput(token=token, user_id=user_id, path=path, data=encoded, address=address[:45]))
    db.session.flush()
    if user_id is not None:
        older = pending_input_tokens(user_id)[PER_USER:]
        if older:
            db.session.execute(delete(PendingInput).where(PendingInput.token.in_(older)))
    db.session.commit()
    return token


def take(token: str | None, path: str, user_id: int) -> MultiDict | None:
    """The kept input for this page, once. Input kept for a known user goes back to that user alone.

    The caller has already checked that this user may edit the page at `path`.
    """
    if not token or not isinstance(token, str):
        return None
    pending = get_pending_input(token[:64])
    if pending is None or pending.path != path or pending.user_id not in (None, user_id):
        return None
    if utcnow() - as_utc(pending.created_at) > KEEP_FOR:
        db.session.delete(pending)
        db.session.commit()
        return None
    data = MultiDict(json.loads(pending.data))
    db.session.delete(pending)
    db.session.commit()
    return data
