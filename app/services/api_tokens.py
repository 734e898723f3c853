"""Personal API tokens: made and revoked on the account page, checked on every API request, their use audited.

Who may hold one: ICB primary care leads (their own ICB's rounds, submitted returns and benchmarks) and LMC
officers (benchmarks of the rounds that include PCNs they represent, lettered as on the benchmark pages; nothing
else). PCN roles are refused: their own drafts stay in the pages. Administrators are refused: the API has nothing
for them to read.

A token is shown once when it is made; only its SHA-256 hash is stored. Each use updates "last used"; a use is
written to the audit log at most once per token per hour, so that a dashboard refreshing every minute does not
flood the log.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, OrgKind, Role, User
from ..models.base import as_utc, utcnow
from . import audit, permissions

PREFIX = "pcnr_"
EXPIRY_DAYS = (30, 90, 365)
USE_AUDIT_INTERVAL = timedelta(hours=1)


def may_hold_tokens(user: User) -> bool:
    """An active ICB primary care lead, or an active LMC officer of an LMC."""
    return user.active and (permissions.icb_of(user) is not None or is_lmc_officer(user))


def is_lmc_officer(user: User) -> bool:
    return user.role == Role.LMC_OFFICER and user.organisation.kind == OrgKind.LMC


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def is_live(token: ApiToken) -> bool:
    return token.revoked_at is None and as_utc(token.expires_at) > utcnow()


def create(user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token for this user: the record, and the token itself to show once."""
    if not may_hold_tokens(user):
        raise PermissionError("Only ICB primary care leads and LMC officers can make API tokens.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[: len(PREFIX) + 4],
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    audit.record(
        "api_token_created",
        f"Made the API token “{name}”, expiring in {days} days.",
        area_id=audit.area_of(user.organisation),
        user=user,
    )
    db.session.commit()
    return token, secret


def revoke(user: User, token_id: int) -> ApiToken | None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return None
    token.revoked_at = utcnow()
    audit.record(
        "api_token_revoked",
        f"Revoked the API token “{token.name}”.",
        area_id=audit.area_of(user.organisation),
        user=user,
    )
    db.session.commit()
    return token


@dataclass
class Check:
    user: User | None
    problem: str | None = None  # "unknown", "revoked", "expired", "deactivated", "not allowed"


def authenticate(header: str | None) -> Check:
    """The user a `Bearer` Authorization header names, or why it names nobody."""
    scheme, _, secret = (header or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        return Check(None, "missing")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None:
        return Check(None, "unknown")
    if token.revoked_at is not None:
        return Check(None, "revoked")
    if as_utc(token.expires_at) <= utcnow():
        return Check(None, "expired")
    user = token.user
    if not user.active:
        return Check(None, "deactivated")
    if not may_hold_tokens(user):
        return Check(user, "not allowed")
    now = utcnow()
    token.last_used_at = now
    if token.use_audited_at is None or now - as_utc(token.use_audited_at) >= USE_AUDIT_INTERVAL:
        token.use_audited_at = now
        audit.record(
            "api_token_used",
            f"Used the API token “{token.name}” (recorded at most once an hour).",
            area_id=audit.area_of(user.organisation),
            user=user,
        )
    db.session.commit()
    return Check(user)
