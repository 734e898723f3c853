"""Forms for inviting people, changing a PCN member's role, and choosing a password when accepting an invitation."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Regexp

from ..models import ROLE_LABELS, Organisation, Role
from .auth import EMAIL_FORMAT, new_password_field
from .fields import ChoiceField, ChoiceRadioField, PlainText, clean_text
from .widgets import NhsEmailInput, NhsInput, NhsPasswordInput, NhsRadios, NhsSelect

NAME_MAX = 200
# One address, letters, digits and the usual punctuation of a mailbox name: no spaces, commas, quotes or angle
# brackets, which could make an email header name more than one recipient.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$"
ROLE_HINTS = {
    Role.ICB_LEAD: "Works for an ICB: opens readiness returns and reviews its PCNs' returns",
    Role.CLINICAL_DIRECTOR: "Leads a PCN: completes its assessments and manages who from the PCN can use the service",
    Role.PCN_MEMBER: "Works in a PCN, for example its manager: completes its assessments and plans",
    Role.LMC_OFFICER: "Works for an LMC: compares the PCNs in its area",
    Role.ADMIN: "Runs the service: can invite anyone to any organisation",
}

PCN_ROLE_HINTS = {str(role): ROLE_HINTS[role] for role in (Role.PCN_MEMBER, Role.CLINICAL_DIRECTOR)}


def organisation_label(organisation: Organisation) -> str:
    return f"{organisation.name} ({organisation.ods_code})" if organisation.ods_code else organisation.name


def role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(str(role), ROLE_LABELS[role]) for role in roles]


class _Invitee(FlaskForm):
    email = EmailField(
        "Email address",
        description="Their work email address. The invitation is sent here and it is how they will sign in.",
        validators=[
            DataRequired("Enter their email address"),
            PlainText("Email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Regexp(EMAIL_PATTERN, message=EMAIL_FORMAT),
        ],
        filters=[clean_text],
        widget=NhsEmailInput(),
    )
    name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter their full name"),
            PlainText(),
            Length(max=NAME_MAX, message=f"Full name must be {NAME_MAX} characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )


class InviteForm(_Invitee):
    """An ICB lead or administrator inviting someone to one of the organisations they may invite to."""

    organisation = ChoiceField(
        "Organisation",
        invalid_message="Select an organisation from the list",
        validators=[InputRequired("Select the organisation they will belong to")],
        widget=NhsSelect(),
    )
    role = ChoiceRadioField(
        "Role",
        invalid_message="Select one of the roles shown",
        validators=[InputRequired("Select their role")],
        widget=NhsRadios(),
    )

    def offer(self, organisations: list[Organisation], roles) -> None:
        self.organisation.choices = [SelectChoice("", "Select an organisation")] + [
            SelectChoice(str(org.id), organisation_label(org)) for org in organisations
        ]
        self.role.choices = role_choices(roles)
        self.role.hints = {str(role): ROLE_HINTS[role] for role in roles}


class MemberInviteForm(_Invitee):
    """A clinical director inviting someone to their own PCN."""

    role = ChoiceRadioField(
        "Role",
        invalid_message="Select clinical director or PCN team member",
        choices=role_choices((Role.PCN_MEMBER, Role.CLINICAL_DIRECTOR)),
        validators=[InputRequired("Select their role")],
        widget=NhsRadios(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.hints = PCN_ROLE_HINTS


class RoleForm(FlaskForm):
    role = ChoiceRadioField(
        "Role",
        invalid_message="Select clinical director or PCN team member",
        choices=role_choices((Role.PCN_MEMBER, Role.CLINICAL_DIRECTOR)),
        validators=[InputRequired("Select a role")],
        widget=NhsRadios(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.hints = PCN_ROLE_HINTS


class SetPasswordForm(FlaskForm):
    """The rules of the account page's new password, for someone choosing their first one."""

    new_password = new_password_field("Create a password", "Enter a password", "Password")
    confirm_password = PasswordField(
        "Confirm password",
        validators=[DataRequired("Enter your password again"), EqualTo("new_password", "The passwords do not match")],
        widget=NhsPasswordInput(),
    )
