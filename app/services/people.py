"""Who may invite whom, and who may change a PCN member's role or deactivate them: plain rules, tested without a
browser.

- An ICB lead invites to its own ICB (ICB lead), the PCNs in its area (clinical director or PCN team member) and an
  LMC whose area is the ICB (LMC officer).
- An administrator invites anyone to any organisation, with a role that organisation's kind can have.
- A clinical director invites to their own PCN (clinical director or PCN team member), moves its members between
  those two roles and deactivates them: never themselves, and never leaving the PCN without an active clinical
  director.
"""

from ..models import Invitation, Organisation, OrgKind, Role, User
from . import audit, permissions

# The roles an account in each kind of organisation can have (a sub-ICB location has no accounts of its own).
ROLES_FOR_KIND: dict[str, tuple[Role, ...]] = {
    OrgKind.ICB: (Role.ICB_LEAD,),
    OrgKind.PCN: (Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER),
    OrgKind.LMC: (Role.LMC_OFFICER,),
    OrgKind.ADMIN: (Role.ADMIN,),
    OrgKind.SUB_ICB: (),
}
PCN_TEAM_ROLES = ROLES_FOR_KIND[OrgKind.PCN]


def roles_for(organisation: Organisation) -> tuple[Role, ...]:
    return ROLES_FOR_KIND.get(organisation.kind, ())


def is_clinical_director(user: User) -> bool:
    return user.role == Role.CLINICAL_DIRECTOR and permissions.is_pcn_member(user)


def invitable_roles(user: User, organisation: Organisation) -> tuple[Role, ...]:
    """The roles this user may invite someone to this organisation with; none if they may not invite there."""
    if not user.active:
        return ()
    if permissions.is_admin(user):
        return roles_for(organisation)
    icb_id = permissions.icb_of(user)
    if icb_id is not None:
        if organisation.id == icb_id:
            return (Role.ICB_LEAD,)
        if organisation.area_id == icb_id and organisation.kind in (OrgKind.PCN, OrgKind.LMC):
            return roles_for(organisation)
        return ()
    if is_clinical_director(user) and organisation.id == user.organisation_id:
        return PCN_TEAM_ROLES
    return ()


def kinds_invitable_in_area(user: User) -> tuple[str, ...]:
    """The kinds of organisation, among those an ICB lead or administrator looks after, that they may invite to: as
    invitable_roles gives, every one whose kind has roles (an ICB lead's area holds its own ICB, its PCNs and LMCs)."""
    if not user.active or not (permissions.is_admin(user) or permissions.icb_of(user) is not None):
        return ()
    return tuple(kind for kind, roles in ROLES_FOR_KIND.items() if roles)


def can_invite(user: User, organisation: Organisation, role: str) -> bool:
    return role in invitable_roles(user, organisation)


def can_withdraw(user: User, invitation: Invitation) -> bool:
    """Whoever could have sent an invitation may withdraw it."""
    return can_invite(user, invitation.organisation, invitation.role)


# A role in a sentence: "must be a clinical director or a PCN team member".
ROLE_PHRASES = {
    Role.CLINICAL_DIRECTOR: "a clinical director",
    Role.PCN_MEMBER: "a PCN team member",
    Role.ICB_LEAD: "an ICB primary care lead",
    Role.LMC_OFFICER: "an LMC officer",
    Role.ADMIN: "an administrator",
}


def wrong_role_message(organisation: Organisation, allowed: tuple[Role, ...]) -> str:
    """What to say when the role chosen is not one this organisation can have (or this user may give there)."""
    if not allowed:
        return f"You cannot invite anyone to {organisation.name}"
    phrases = [ROLE_PHRASES[role] for role in allowed]
    if len(phrases) == 1:
        return f"Someone invited to {organisation.name} can only be {phrases[0]}"
    return f"Someone invited to {organisation.name} must be {' or '.join(phrases)}"


# --- A clinical director managing their PCN's accounts -----------------------------------------------------------


def manages(user: User, member: User) -> bool:
    """A clinical director manages the accounts of their own PCN's team (their own included, to see it)."""
    same_pcn = member.organisation_id == user.organisation_id
    return is_clinical_director(user) and same_pcn and member.role in PCN_TEAM_ROLES


def can_see_members(user: User) -> bool:
    """Anyone in a PCN's team sees who else is in it; only its clinical directors change anything."""
    return permissions.is_pcn_member(user)


def role_change_refusal(actor: User, member: User, new_role: str, other_active_directors: int) -> str | None:
    """Why this role change cannot be made, in plain English; None if it can.

    `other_active_directors` counts the PCN's active clinical directors other than `member`.
    """
    if not manages(actor, member):
        return "You can only change the roles of people in your own PCN"
    if new_role not in PCN_TEAM_ROLES:
        return "Select clinical director or PCN team member"
    if member.id == actor.id:
        return "You cannot change your own role. Another clinical director of your PCN can change it for you"
    if not member.active:
        return f"{member.name}'s account has been deactivated, so their role cannot be changed"
    if member.role == Role.CLINICAL_DIRECTOR and new_role != Role.CLINICAL_DIRECTOR and other_active_directors == 0:
        return (
            f"{member.name} is the only active clinical director of {member.organisation.name}. "
            "Make someone else clinical director first"
        )
    return None


def deactivation_refusal(actor: User, member: User, other_active_directors: int) -> str | None:
    """Why this account cannot be deactivated, in plain English; None if it can."""
    if not manages(actor, member):
        return "You can only deactivate the accounts of people in your own PCN"
    if member.id == actor.id:
        return "You cannot deactivate your own account. Another clinical director of your PCN can"
    if not member.active:
        return f"{member.name}'s account is already deactivated"
    if member.role == Role.CLINICAL_DIRECTOR and other_active_directors == 0:
        return (
            f"{member.name} is the only active clinical director of {member.organisation.name}. "
            "A PCN must always have one: make someone else clinical director first"
        )
    return None


# --- A PCN's choice to be named to its LMC in benchmarks -----------------------------------------------------------


def can_change_benchmark_naming(user: User, pcn: Organisation) -> bool:
    """Only a clinical director of the PCN itself chooses whether its LMC sees its name; its other members see it."""
    return user.active and is_clinical_director(user) and pcn.kind == OrgKind.PCN and user.organisation_id == pcn.id


def set_benchmark_naming(user: User, pcn: Organisation, named: bool) -> bool:
    """Record the clinical director's choice and audit it; False (nothing recorded) when it is unchanged.

    The caller checks can_change_benchmark_naming first and commits.
    """
    if not can_change_benchmark_naming(user, pcn):
        raise PermissionError("Only the PCN's clinical director can change this")
    if pcn.named_to_lmc == named:
        return False
    pcn.named_to_lmc = named
    summary = (
        f"Named {pcn.name} to its LMC in benchmarks"
        if named
        else f"Withdrew {pcn.name}'s naming to its LMC in benchmarks: the LMC sees it as a letter"
    )
    audit.record("benchmark_naming", summary, area_id=audit.area_of(pcn), user=user)
    return True
