"""Forms for return rounds: set one up, submit a return, reopen one, remind PCNs."""

from datetime import date

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from .fields import ChoiceRadioField, PlainText, clean_paragraphs, clean_text
from .widgets import NhsInput, NhsRadios, NhsTextarea, _error, _merge, render_component

NO_SUPPLEMENT = "none"
TEXT_HINT = "Organisational information only: do not include anything about individual patients."


class NhsDateInput:
    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        base = {
            "id": field.id,
            "namePrefix": field.name,
            "fieldset": {"legend": {"text": field.label.text, "size": "s"}},
            "hint": {"text": field.description or "For example, 15 3 2027"},
            "errorMessage": _error(field),
            "items": [
                {"name": "day", "classes": "nhsuk-input--width-2", "value": field.parts[0]},
                {"name": "month", "classes": "nhsuk-input--width-2", "value": field.parts[1]},
                {"name": "year", "classes": "nhsuk-input--width-4", "value": field.parts[2]},
            ],
        }
        return render_component("date-input", "dateInput", _merge(base, params))


class UkDateField(Field):
    """A date typed as day, month and year in three boxes (the NHS date input pattern), kept as typed on error."""

    widget = NhsDateInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parts = ("", "", "")

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = data if isinstance(data, date) else None
        if isinstance(self.data, date):
            self.parts = (str(self.data.day), str(self.data.month), str(self.data.year))
        if formdata is not None:
            self.parts = tuple(
                (formdata.get(f"{self.name}[{part}]") or "").strip()[:10] for part in ("day", "month", "year")
            )
            self.data = None

    def pre_validate(self, form) -> None:
        name = self.label.text.lower()
        day, month, year = self.parts
        if not any(self.parts):
            raise StopValidation(f"Enter the {name}")
        missing = [label for label, value in zip(("day", "month", "year"), self.parts, strict=True) if not value]
        if missing:
            raise StopValidation(f"The {name} must include a {' and '.join(missing)}")
        if not all(p.isdigit() for p in self.parts) or len(year) != 4:
            raise StopValidation(f"The {name} must be a real date, for example 15 3 2027")
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError:
            raise StopValidation(f"The {name} must be a real date, for example 15 3 2027") from None


class NhsCheckboxes:
    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        chosen = {str(v) for v in (field.data or [])}
        hints = getattr(field, "hints", {})
        items = []
        for value, label in field.choices:
            item = {"value": value, "text": label, "checked": str(value) in chosen}
            if hints.get(value):
                item["hint"] = {"text": hints[value]}
            items.append(item)
        base = {
            "idPrefix": field.id,
            "name": field.name,
            "items": items,
            "fieldset": {"legend": {"text": field.label.text, "size": "s"}},
            "errorMessage": _error(field),
        }
        if field.description:
            base["hint"] = {"text": field.description}
        return render_component("checkboxes", "checkboxes", _merge(base, params))


class PlainMultipleChoice(SelectMultipleField):
    """Ticked boxes; a value not on the list gets a plain message instead of WTForms' own."""

    widget = NhsCheckboxes()

    def __init__(self, *args, invalid_message: str = "Choose from the list shown", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form) -> None:
        values = {str(v) for v, _ in self.choices or []}
        if any(str(v) not in values for v in self.data or []):
            raise ValidationError(self.invalid_message)


class RoundForm(FlaskForm):
    title = StringField(
        "Title",
        description="For example, Neighbourhood readiness return, spring 2027",
        validators=[
            DataRequired("Enter a title for the round"),
            PlainText(),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )
    questionnaire = ChoiceRadioField(
        "Questionnaire",
        description="The self-assessment PCNs answer for this round.",
        invalid_message="Choose a questionnaire from the list",
        validators=[DataRequired("Choose a questionnaire")],
        widget=NhsRadios(),
    )
    supplement = ChoiceRadioField(
        "Local supplement",
        description="Questions of your own, answered after the core questionnaire and scored separately.",
        invalid_message="Choose a supplement from the list, or none",
        validators=[DataRequired("Choose a supplement, or no supplement")],
        widget=NhsRadios(),
    )
    opens_on = UkDateField("Opening date")
    closes_on = UkDateField("Closing date", description="The deadline PCNs see. For example, 30 4 2027")
    pcns = PlainMultipleChoice(
        "PCNs asked for a return",
        description="Every PCN in your area is ticked to begin with.",
        invalid_message="Choose PCNs in your ICB's area only",
        coerce=str,
    )

    def set_choices(self, cores, supplements, pcns) -> None:
        self.questionnaire.choices = [(q.id, q.title) for q in cores]
        if not self.questionnaire.data and len(cores) == 1:
            self.questionnaire.data = cores[0].id  # one on offer: nothing to choose
        self.questionnaire.hints = {q.id: f"{len(q.domains)} sections, {q.question_count} questions" for q in cores}
        self.supplement.choices = [(NO_SUPPLEMENT, "No supplement")] + [(q.id, q.title) for q in supplements]
        self.supplement.hints = {q.id: f"Adds to {q.supplements}" for q in supplements}
        self._supplements_of = {q.id: q.supplements for q in supplements}
        self.pcns.choices = [(str(p.id), f"{p.name} ({p.ods_code})") for p in pcns]
        self.pcns.hints = {str(p.id): p.parent.name for p in pcns if p.parent is not None}

    def validate_supplement(self, field) -> None:
        wanted = getattr(self, "_supplements_of", {}).get(field.data)
        if field.data != NO_SUPPLEMENT and wanted is not None and wanted != self.questionnaire.data:
            raise ValidationError("Choose a supplement written for the questionnaire you chose, or no supplement")

    def validate_pcns(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one PCN")

    def validate_closes_on(self, field) -> None:
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("The closing date must be on or after the opening date")

    @property
    def pcn_ids(self) -> list[int]:
        return [int(v) for v in self.pcns.data or []]


class SubmitForm(FlaskForm):
    declaration = BooleanField(
        "These answers reflect the PCN's agreed view",
        validators=[DataRequired("Confirm that these answers reflect the PCN's agreed view")],
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why are you reopening this return?",
        description="The PCN sees this. " + TEXT_HINT,
        validators=[
            DataRequired("Enter why you are reopening this return"),
            PlainText(),
            Length(max=2000, message="The reason must be 2000 characters or fewer"),
        ],
        filters=[clean_paragraphs],
        widget=NhsTextarea(),
    )


class ReminderForm(FlaskForm):
    pcns = PlainMultipleChoice(
        "Who to remind",
        invalid_message="Choose PCNs that have not yet submitted",
        coerce=str,
    )
    text = TextAreaField(
        "Reminder",
        description="Sent by email to each chosen PCN's clinical director and members. " + TEXT_HINT,
        validators=[
            DataRequired("Enter the text of the reminder"),
            PlainText(),
            Length(max=2000, message="The reminder must be 2000 characters or fewer"),
        ],
        filters=[clean_paragraphs],
        widget=NhsTextarea(),
    )

    def validate_supplement(self, field) -> None:
        wanted = getattr(self, "_supplements_of", {}).get(field.data)
        if field.data != NO_SUPPLEMENT and wanted is not None and wanted != self.questionnaire.data:
            raise ValidationError("Choose a supplement written for the questionnaire you chose, or no supplement")

    def validate_pcns(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one PCN to remind")
