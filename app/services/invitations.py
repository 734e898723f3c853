"""Invitations: how a new person gets an account. Sent by email, single use, time-limited, and withdrawable.

The link carries a random token; the database keeps only its SHA-256, so a copy of the database opens nothing.
Every invitation, acceptance and withdrawal is in the audit log, saved in the same commit as the change.
"""

import hashlib
import secrets
import textwrap
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Invitation, Organisation, Role, User
from ..models.base import as_utc, utcnow
from ..queries import people as people_queries
from ..queries.users import get_user_by_email
from ..templating import uk_date
from . import audit, mail, people, security_log

TOKEN_MAX = 100  # token_urlsafe(32) is 43 characters; anything much longer is not one of ours


class InvitationRefused(Exception):
    """An invitation that cannot be sent; the message is for the person sending it, about the email address."""


class LinkProblem(Exception):
    """Why an invitation link cannot be used: a message for the person who opened it, a reason for the security
    log, and the page's status (404 for a link that was never one of ours, 410 for one no longer usable)."""

    def __init__(self, reason: str, message: str, status: int):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


def _unknown() -> LinkProblem:
    return LinkProblem(
        "unknown",
        "This invitation link is not valid. Check that you opened the whole link from the email. If it still does "
        "not work, ask the person who invited you to send a new invitation.",
        404,
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_days() -> int:
    return current_app.config["INVITATION_DAYS"]


def is_pending(invitation: Invitation, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return invitation.accepted_at is None and invitation.withdrawn_at is None and as_utc(invitation.expires_at) > now


def describe(invitation: Invitation) -> str:
    return f"{invitation.name} ({invitation.email}) to {invitation.organisation.name} as {_role(invitation.role)}"


def _role(role: str) -> str:
    """ "a PCN team member", in a sentence."""
    return people.ROLE_PHRASES[Role(role)] if role in people.ROLE_PHRASES else role


# --- Sending -----------------------------------------------------------------------------------------------------


def create(inviter: User, organisation: Organisation, role: str, email: str, name: str) -> Invitation:
    """Invite someone and email them their link. Raises InvitationRefused for an email address that already has an
    account or an invitation waiting, and mail.MailError if the email could not be sent (the invitation is then
    withdrawn at once, so no link that nobody received stays open)."""
    if not people.can_invite(inviter, organisation, role):
        raise PermissionError("this user may not invite to this organisation with this role")
    email = email.strip().lower()
    now = utcnow()
    if get_user_by_email(email) is not None:
        raise InvitationRefused(f"{email} already has an account. They can sign in with it")
    if people_queries.pending_invitation_for(email, now) is not None:
        raise InvitationRefused(
            f"{email} has already been invited and the invitation has not expired. "
            "It can be withdrawn from the list of invitations, then sent again"
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=hash_token(token),
        email=email,
        name=name.strip(),
        role=role,
        organisation=organisation,
        invited_by_id=inviter.id,
        created_at=now,
        expires_at=now + timedelta(days=expiry_days()),
    )
    db.session.add(invitation)
    audit.record("invitation_sent", f"Invited {describe(invitation)}", area_id=audit.area_of(organisation))
    db.session.commit()
    try:
        mail.send(email, f"Your invitation to {organisation.name} on PCN Neighbourhood Readiness",
                  _invitation_email(invitation, inviter, token))  # fmt: skip
    except mail.MailError:
        invitation.withdrawn_at = utcnow()
        audit.record(
            "invitation_not_sent",
            f"The invitation email to {invitation.email} could not be sent, so the invitation was withdrawn",
            area_id=audit.area_of(organisation),
        )
        db.session.commit()
        security_log.event("invitation_sent", "failed", invitation_id=invitation.id)
        raise
    security_log.event("invitation_sent", "succeeded", invitation_id=invitation.id)
    return invitation


def _invitation_email(invitation: Invitation, inviter: User, token: str) -> str:
    """The email's text: short lines, as plain-text email is read, and the link on a line of its own."""
    link = url_for("people.invitation.accept", token=token, _external=True)
    paragraphs = [
        f"Hello {invitation.name},",
        f"{inviter.name} of {inviter.organisation.name} has invited you to use PCN Neighbourhood Readiness as "
        f"{_role(invitation.role)} for {invitation.organisation.name}.",
        "PCN Neighbourhood Readiness is where Primary Care Networks assess how ready they are to lead their "
        "neighbourhood, plan their next six months, and send readiness returns to their ICB.",
        "To accept, open this link and choose a password:",
        link,
        f"The link works once and expires on {uk_date(invitation.expires_at)}. If it has expired, ask "
        f"{inviter.name} to invite you again.",
        "If you were not expecting this email, you can ignore it: no account is made unless the link is used.",
    ]
    return "\n\n".join(p if p == link else textwrap.fill(p, width=72) for p in paragraphs) + "\n"


# --- Accepting ---------------------------------------------------------------------------------------------------


def find(token: str) -> Invitation | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    return people_queries.get_invitation_by_token_hash(hash_token(token))


def problem_with(invitation: Invitation | None, now: datetime | None = None) -> LinkProblem | None:
    """Why this invitation's link cannot be used now, if it cannot."""
    now = now or utcnow()
    if invitation is None:
        return _unknown()
    if invitation.accepted_at is not None:
        return LinkProblem(
            "used",
            "This invitation has already been used. If you accepted it, sign in with your email address and the "
            "password you chose.",
            410,
        )
    if invitation.withdrawn_at is not None:
        return LinkProblem(
            "withdrawn",
            "This invitation has been withdrawn. If you think you should have an account, ask the person who "
            "invited you.",
            410,
        )
    if as_utc(invitation.expires_at) <= now:
        return LinkProblem(
            "expired",
            f"This invitation expired on {uk_date(invitation.expires_at)}. Ask the person who invited you to send "
            "a new one.",
            410,
        )
    if get_user_by_email(invitation.email) is not None:
        return LinkProblem(
            "has_account",
            f"There is already an account for {invitation.email}. Sign in with it instead.",
            409,
        )
    inviter = invitation.invited_by
    if not people.can_invite(inviter, invitation.organisation, invitation.role):
        # The person who sent it has since left, or no longer has the role that let them invite.
        return LinkProblem(
            "inviter_no_longer_allowed",
            f"This invitation is no longer valid, because the person who sent it can no longer invite people to "
            f"{invitation.organisation.name}. Ask someone there to invite you again.",
            410,
        )
    return None


def accept(invitation: Invitation, password: str) -> User:
    """Create the account the invitation is for, with the password chosen; the invitation is then used up.

    Raises LinkProblem if the link cannot be used (two tabs accepting at once: only one of them gets the account).
    """
    now = utcnow()
    problem = problem_with(invitation, now)
    if problem:
        raise problem
    claimed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(invitation)
        raise problem_with(invitation) or _unknown()
    user = User(
        email=invitation.email,
        name=invitation.name,
        role=invitation.role,
        organisation_id=invitation.organisation_id,
        created_at=now,
    )
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # an account with this email was made a moment ago
        db.session.rollback()
        raise LinkProblem(
            "has_account", f"There is already an account for {invitation.email}. Sign in with it instead.", 409
        ) from None
    invitation.accepted_at = now
    invitation.user_id = user.id
    audit.record(
        "invitation_accepted",
        f"{user.name} ({user.email}) accepted the invitation to {invitation.organisation.name} as {_role(user.role)}",
        area_id=audit.area_of(invitation.organisation),
        user=user,
    )
    db.session.commit()
    return user


# --- Withdrawing -------------------------------------------------------------------------------------------------


def withdraw(invitation: Invitation, by: User) -> bool:
    """Withdraw an invitation still waiting to be accepted; False if it was not (accepted, withdrawn or expired)."""
    now = utcnow()
    withdrawn = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    if withdrawn.rowcount != 1:
        db.session.rollback()
        return False
    invitation.withdrawn_at = now
    audit.record(
        "invitation_withdrawn", f"Withdrew the invitation of {describe(invitation)}",
        area_id=audit.area_of(invitation.organisation), user=by,
    )  # fmt: skip
    db.session.commit()
    security_log.event("invitation_withdrawn", "succeeded", invitation_id=invitation.id)
    return True
