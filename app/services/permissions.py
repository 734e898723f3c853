"""Object-level permissions. Drafts belong to the PCN: only its own members see or edit its assessments."""

from ..models import Assessment, OrgKind, Role, User

PCN_ROLES = {Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER}


def is_pcn_member(user: User) -> bool:
    return user.role in PCN_ROLES and user.organisation.kind == OrgKind.PCN


def can_start_assessment(user: User) -> bool:
    return is_pcn_member(user)


def can_view_assessment(user: User, assessment: Assessment) -> bool:
    return is_pcn_member(user) and user.organisation_id == assessment.pcn_id


def can_edit_assessment(user: User, assessment: Assessment) -> bool:
    return can_view_assessment(user, assessment)


def icb_of(user: User) -> int | None:
    """The ICB whose area an ICB lead works for; None for everyone else."""
    if user.role == Role.ICB_LEAD and user.organisation.kind == OrgKind.ICB:
        return user.organisation_id
    return None


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN and user.organisation.kind == OrgKind.ADMIN


def can_manage_round(user: User, round_) -> bool:
    """A round, its returns, chase list and exports are its own ICB's lead's alone."""
    return icb_of(user) is not None and icb_of(user) == round_.icb_id


def can_see_submission(user: User, round_, submission) -> bool:
    return can_manage_round(user, round_) and submission.round_id == round_.id
