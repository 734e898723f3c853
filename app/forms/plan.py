"""Forms for the action plan: edit or add an action, and the days of work a month the plan may fill."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..models import ACTION_STATUS_LABELS
from ..questionnaires import Questionnaire
from ..questionnaires.schema import DEFAULT_EFFORT, EFFORT_DAYS, EFFORT_LABELS
from ..services.plans import CAPACITY_RANGE, ActionChange
from .fields import ChoiceField, ChoiceRadioField, PlainText, WholeNumberField, clean_paragraphs, clean_text
from .widgets import NhsInput, NhsRadios, NhsSelect, NhsTextarea

LATER = "later"
TITLE_MAX = 300
TEXT_HINT = "Organisational information only: do not include anything about individual patients."
PARTNER_MAX = 120
# What each effort means, in the words the PCN sees; the days are what the plan counts against a month.
EFFORT_HINTS = {
    "days": f"A few days of work (counts as {EFFORT_DAYS['days']} days)",
    "weeks": f"A few weeks, part time (counts as {EFFORT_DAYS['weeks']} days)",
    "months": f"Months of work (counts as {EFFORT_DAYS['months']} days)",
}
CAPACITY_MIN, CAPACITY_MAX = CAPACITY_RANGE
CAPACITY_MESSAGE = f"Enter how many days of work a month, from {CAPACITY_MIN} to {CAPACITY_MAX}"


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
    partner = StringField(
        "Working with (optional)",
        description="Who the PCN works with on this, for example the ICB or the community provider",
        validators=[
            PlainText(),
            Length(max=PARTNER_MAX, message=f"Working with must be {PARTNER_MAX} characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )
    effort = ChoiceRadioField(
        "Effort",
        description="How much work this is for the PCN. The plan fills each month up to your days of work a month.",
        invalid_message="Select days, weeks or months for the effort",
        choices=[SelectChoice(value, EFFORT_LABELS[value]) for value in EFFORT_DAYS],
        validators=[InputRequired("Select how much effort this action takes")],
        widget=NhsRadios(),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.effort.hints = EFFORT_HINTS

    def change(self) -> ActionChange:
        return ActionChange(
            title=self.title.data,
            description=self.description.data or "",
            owner=self.owner.data,
            month=None if self.month.data == LATER else int(self.month.data),
            status=self.status.data,
            note=self.note.data or "",
            effort=self.effort.data,
            partner=self.partner.data or "",
        )

    @staticmethod
    def data_for(action) -> dict:
        return {
            "title": action.title,
            "description": action.description,
            "owner": action.owner,
            "partner": action.partner or "",
            "effort": action.effort or DEFAULT_EFFORT,
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


class DaysField(WholeNumberField):
    """A whole number of days; left blank, the field's "enter" message is shown rather than "not a number"."""

    def process_formdata(self, valuelist):
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class PlanSettingsForm(FlaskForm):
    capacity = DaysField(
        "Days of PCN work a month",
        invalid_value_message="Enter days of work a month as a whole number, like 12",
        description=(
            f"A whole number from {CAPACITY_MIN} to {CAPACITY_MAX}: the days of work across the PCN's team that the "
            "plan may fill each month. Applies to actions scheduled from now on."
        ),
        validators=[
            InputRequired(CAPACITY_MESSAGE),
            NumberRange(min=CAPACITY_MIN, max=CAPACITY_MAX, message=CAPACITY_MESSAGE),
        ],
        widget=NhsInput(),
    )
