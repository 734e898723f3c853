"""Who may invite whom, withdraw an invitation, change a PCN member's role or deactivate them: the rules alone."""

import pytest

from app.models import Invitation, Organisation, OrgKind, Role, User
from app.services import people

ICB = Organisation(id=1, name="Demo ICB", kind=OrgKind.ICB)
OTHER_ICB = Organisation(id=2, name="Second Demo ICB", kind=OrgKind.ICB)
RIVERSIDE = Organisation(id=10, name="Riverside PCN", kind=OrgKind.PCN, area_id=1)
NORTHFIELDS = Organisation(id=11, name="Northfields PCN", kind=OrgKind.PCN, area_id=1)
HILLSIDE = Organisation(id=20, name="Hillside PCN", kind=OrgKind.PCN, area_id=2)
LMC = Organisation(id=30, name="Demo Local Medical Committee", kind=OrgKind.LMC, area_id=1)
OTHER_LMC = Organisation(id=31, name="Another LMC", kind=OrgKind.LMC, area_id=2)
SUB_ICB = Organisation(id=40, name="Demo sub-ICB location", kind=OrgKind.SUB_ICB, area_id=1)
SERVICE = Organisation(id=50, name="PCN Neighbourhood Readiness service", kind=OrgKind.ADMIN)
EVERY_ORGANISATION = [ICB, OTHER_ICB, RIVERSIDE, NORTHFIELDS, HILLSIDE, LMC, OTHER_LMC, SUB_ICB, SERVICE]

CD, MEMBER, LEAD, OFFICER, ADMIN = (
    Role.CLINICAL_DIRECTOR,
    Role.PCN_MEMBER,
    Role.ICB_LEAD,
    Role.LMC_OFFICER,
    Role.ADMIN,
)


def person(user_id: int, role: Role, organisation: Organisation, active: bool = True, name: str = "") -> User:
    return User(
        id=user_id,
        email=f"person{user_id}@example.org",
        name=name or f"Person {user_id}",
        role=role,
        organisation=organisation,
        organisation_id=organisation.id,
        active=active,
    )


def invitation(organisation: Organisation, role: Role) -> Invitation:
    return Invitation(email="new@example.org", name="New Person", role=role, organisation=organisation)


def offers(user: User) -> dict[str, tuple]:
    """Everywhere this user may invite to, with the roles they may give there."""
    return {
        org.name: people.invitable_roles(user, org) for org in EVERY_ORGANISATION if people.invitable_roles(user, org)
    }


# --- Inviting ----------------------------------------------------------------------------------------------------


def test_an_icb_lead_invites_to_its_own_icb_its_pcns_and_its_lmc_only():
    assert offers(person(1, LEAD, ICB)) == {
        "Demo ICB": (LEAD,),
        "Riverside PCN": (CD, MEMBER),
        "Northfields PCN": (CD, MEMBER),
        "Demo Local Medical Committee": (OFFICER,),
    }


def test_an_icb_lead_cannot_invite_to_another_icb_or_its_pcns():
    lead = person(1, LEAD, ICB)
    for organisation in (OTHER_ICB, HILLSIDE, OTHER_LMC, SERVICE, SUB_ICB):
        for role in Role:
            assert not people.can_invite(lead, organisation, role), (organisation.name, role)
    assert offers(person(2, LEAD, OTHER_ICB)) == {
        "Second Demo ICB": (LEAD,),
        "Hillside PCN": (CD, MEMBER),
        "Another LMC": (OFFICER,),
    }


def test_an_icb_lead_gives_only_the_roles_each_kind_of_organisation_has():
    lead = person(1, LEAD, ICB)
    assert not people.can_invite(lead, RIVERSIDE, LEAD)
    assert not people.can_invite(lead, RIVERSIDE, ADMIN)
    assert not people.can_invite(lead, ICB, CD)
    assert not people.can_invite(lead, LMC, MEMBER)
    assert not people.can_invite(lead, RIVERSIDE, "superuser")
    assert people.can_invite(lead, RIVERSIDE, "clinical_director")  # a role as stored and as posted


def test_an_administrator_invites_anyone_to_any_organisation_with_a_role_its_kind_has():
    assert offers(person(5, ADMIN, SERVICE)) == {
        "Demo ICB": (LEAD,),
        "Second Demo ICB": (LEAD,),
        "Riverside PCN": (CD, MEMBER),
        "Northfields PCN": (CD, MEMBER),
        "Hillside PCN": (CD, MEMBER),
        "Demo Local Medical Committee": (OFFICER,),
        "Another LMC": (OFFICER,),
        "PCN Neighbourhood Readiness service": (ADMIN,),
    }


def test_a_clinical_director_invites_only_to_their_own_pcn():
    assert offers(person(3, CD, RIVERSIDE)) == {"Riverside PCN": (CD, MEMBER)}


@pytest.mark.parametrize(
    "user",
    [
        person(4, MEMBER, RIVERSIDE),
        person(6, OFFICER, LMC),
        person(7, ADMIN, RIVERSIDE),  # an administrator's role without the service's own organisation
        person(8, LEAD, RIVERSIDE),  # an ICB lead's role in a PCN
        person(9, CD, ICB),  # a clinical director's role outside a PCN
        person(1, LEAD, ICB, active=False),
        person(5, ADMIN, SERVICE, active=False),
    ],
    ids=lambda user: f"{user.role} in {user.organisation.name}{'' if user.active else ', deactivated'}",
)
def test_nobody_else_invites_anyone(user):
    assert offers(user) == {}


def test_whoever_could_have_sent_an_invitation_may_withdraw_it():
    to_riverside = invitation(RIVERSIDE, MEMBER)
    assert people.can_withdraw(person(3, CD, RIVERSIDE), to_riverside)
    assert people.can_withdraw(person(1, LEAD, ICB), to_riverside)
    assert people.can_withdraw(person(5, ADMIN, SERVICE), to_riverside)
    assert not people.can_withdraw(person(4, MEMBER, RIVERSIDE), to_riverside)
    assert not people.can_withdraw(person(11, CD, NORTHFIELDS), to_riverside)
    assert not people.can_withdraw(person(2, LEAD, OTHER_ICB), to_riverside)
    assert not people.can_withdraw(person(6, OFFICER, LMC), to_riverside)
    to_the_icb = invitation(ICB, LEAD)
    assert not people.can_withdraw(person(3, CD, RIVERSIDE), to_the_icb)
    assert people.can_withdraw(person(1, LEAD, ICB), to_the_icb)


def test_a_wrong_role_is_explained_in_plain_english():
    assert people.wrong_role_message(RIVERSIDE, (CD, MEMBER)) == (
        "Someone invited to Riverside PCN must be a clinical director or a PCN team member"
    )
    assert people.wrong_role_message(LMC, (OFFICER,)) == (
        "Someone invited to Demo Local Medical Committee can only be an LMC officer"
    )
    assert people.wrong_role_message(SUB_ICB, ()) == "You cannot invite anyone to Demo sub-ICB location"


# --- A clinical director looking after their PCN's team ----------------------------------------------------------


def test_a_clinical_director_moves_members_between_the_two_pcn_roles():
    director, member = person(3, CD, RIVERSIDE), person(4, MEMBER, RIVERSIDE, name="Jo Lewis")
    assert people.role_change_refusal(director, member, CD, other_active_directors=1) is None
    other_director = person(12, CD, RIVERSIDE, name="Sam Jones")
    assert people.role_change_refusal(director, other_director, MEMBER, other_active_directors=1) is None
    assert people.role_change_refusal(director, member, LEAD, 1) == "Select clinical director or PCN team member"


def test_a_clinical_director_cannot_change_their_own_role():
    director = person(3, CD, RIVERSIDE)
    refusal = people.role_change_refusal(director, director, MEMBER, other_active_directors=3)
    assert refusal.startswith("You cannot change your own role")


def test_the_last_active_clinical_director_cannot_be_made_a_member():
    director, other = person(3, CD, RIVERSIDE), person(12, CD, RIVERSIDE, name="Sam Jones")
    assert people.role_change_refusal(director, other, MEMBER, other_active_directors=0) == (
        "Sam Jones is the only active clinical director of Riverside PCN. Make someone else clinical director first"
    )


def test_a_clinical_director_deactivates_their_pcn_members():
    director = person(3, CD, RIVERSIDE)
    assert people.deactivation_refusal(director, person(4, MEMBER, RIVERSIDE), other_active_directors=1) is None
    assert people.deactivation_refusal(director, person(12, CD, RIVERSIDE), other_active_directors=1) is None


def test_a_clinical_director_cannot_deactivate_themselves():
    director = person(3, CD, RIVERSIDE)
    refusal = people.deactivation_refusal(director, director, other_active_directors=2)
    assert refusal == "You cannot deactivate your own account. Another clinical director of your PCN can"


def test_the_last_active_clinical_director_cannot_be_deactivated():
    director, other = person(3, CD, RIVERSIDE), person(12, CD, RIVERSIDE, name="Sam Jones")
    refusal = people.deactivation_refusal(director, other, other_active_directors=0)
    assert refusal.startswith("Sam Jones is the only active clinical director of Riverside PCN")


def test_a_deactivated_account_is_not_deactivated_again_or_given_a_new_role():
    director, gone = person(3, CD, RIVERSIDE), person(4, MEMBER, RIVERSIDE, active=False, name="Jo Lewis")
    assert people.deactivation_refusal(director, gone, 1) == "Jo Lewis's account is already deactivated"
    assert "deactivated" in people.role_change_refusal(director, gone, CD, 1)


@pytest.mark.parametrize(
    "actor",
    [
        person(11, CD, NORTHFIELDS),  # another PCN
        person(20, CD, HILLSIDE),  # a PCN in another ICB
        person(4, MEMBER, RIVERSIDE),  # the same PCN, but not its clinical director
        person(1, LEAD, ICB),
        person(5, ADMIN, SERVICE),
    ],
    ids=["another PCN", "another ICB's PCN", "a PCN member", "ICB lead", "administrator"],
)
def test_only_the_pcns_own_clinical_directors_manage_its_members(actor):
    member = person(13, MEMBER, RIVERSIDE)
    assert not people.manages(actor, member)
    assert people.role_change_refusal(actor, member, CD, 1) is not None
    assert people.deactivation_refusal(actor, member, 1) is not None


def test_everyone_in_a_pcn_sees_its_team_and_nobody_outside_it():
    assert people.can_see_members(person(4, MEMBER, RIVERSIDE))
    assert people.can_see_members(person(3, CD, RIVERSIDE))
    assert not people.can_see_members(person(1, LEAD, ICB))
    assert not people.can_see_members(person(6, OFFICER, LMC))
