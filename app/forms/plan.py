"""Forms for the action plan: edit or add an action, and the monthly load."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..models import ACTION_STATUS_LABELS
from ..questionnaires import Questionnaire
from ..services.plans import ActionChange
from .fields import ChoiceField, ChoiceRadioField, PlainText, WholeNumberField, clean_paragraphs, clean_text
from .widgets import NhsInput, NhsRadios, NhsSelect, NhsTextarea

LATER = "later"
TITLE_MAX = 300
TEXT_HINT = "Organisational information only: do not include anything about individual patients."


class ActionForm(FlaskForm):
    title = StringField(
        "Action",
        validators=[
            DataRequired("Enter what the action is"),
            PlainText(),
            Length(max=TITLE_MAX, message=f"Action must be {TITLE_MAX} characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )
    description = TextAreaField(
        "What to do (optional)",
        description=TEXT_HINT,
        validators=[PlainText(), Length(max=2000, message="What to do must be 2000 characters or fewer")],
        filters=[clean_paragraphs],
        widget=NhsTextarea(),
    )
    owner = StringField(
        "Owner",
        description="A person or role, for example PCN manager",
        validators=[
            DataRequired("Enter who owns this action"),
            PlainText(),
            Length(max=120, message="Owner must be 120 characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )
    month = ChoiceField(
        "Month",
        invalid_message="Select a month from the list",
        choices=[SelectChoice(str(m), f"Month {m}") for m in range(1, 7)]
        + [SelectChoice(LATER, "Later (after six months)")],
        validators=[InputRequired("Select a month")],
        widget=NhsSelect(),
    )
    status = ChoiceRadioField(
        "Status",
        invalid_message="Select the status of this action",
        choices=[SelectChoice(value, label) for value, label in ACTION_STATUS_LABELS.items()],
        validators=[InputRequired("Select the status of this action")],
        widget=NhsRadios(),
    )
    note = TextAreaField(
        "Progress note (optional)",
        description=TEXT_HINT,
        validators=[PlainText(), Length(max=2000, message="Progress note must be 2000 characters or fewer")],
        filters=[clean_paragraphs],
        widget=NhsTextarea(),
    )
    revision = HiddenField()

    def change(self) -> ActionChange:
        return ActionChange(
            title=self.title.data,
            description=self.description.data or "",
            owner=self.owner.data,
            month=None if self.month.data == LATER else int(self.month.data),
            status=self.status.data,
            note=self.note.data or "",
        )

    @staticmethod
    def data_for(action) -> dict:
        return {
            "title": action.title,
            "description": action.description,
            "owner": action.owner,
            "month": LATER if action.month is None else str(action.month),
            "status": action.status,
            "note": action.note,
            "revision": str(action.revision),
        }


class NewActionForm(ActionForm):
    domain = ChoiceField(
        "Domain",
        invalid_message="Select a domain from the list",
        validators=[InputRequired("Select the domain this action belongs to")],
        widget=NhsSelect(),
    )

    def set_domains(self, questionnaire: Questionnaire) -> None:
        self.domain.choices = [SelectChoice(d.id, d.title) for d in questionnaire.domains] + [
            SelectChoice("none", "Not about one domain")
        ]

    @property
    def domain_id(self) -> str | None:
        return None if self.domain.data == "none" else self.domain.data


class PlanSettingsForm(FlaskForm):
    max_per_month = WholeNumberField(
        "Most actions in any one month",
        invalid_value_message="Most actions in any one month must be a whole number, like 5",
        description="A number from 1 to 20. Applies to actions scheduled from now on.",
        validators=[
            InputRequired("Enter the most actions in any one month, as a number"),
            NumberRange(min=1, max=20, message="Most actions in any one month must be between 1 and 20"),
        ],
        widget=NhsInput(),
    )
