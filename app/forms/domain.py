"""A domain page's form, built from the questionnaire data: two radios and a note per question."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..questionnaires import Domain, Question
from ..services.assessments import target_error
from ..services.scoring import AnswerValue
from .fields import ChoiceRadioField, PlainText, clean_paragraphs
from .widgets import NhsRadios, NhsTextarea

NOT_SURE = "not-sure"
LEVEL_VALUES = {str(level): level for level in range(5)}
NOTE_MAX = 2000
NOTE_HINT = "Organisational information only: do not include anything about individual patients."


class LevelField(ChoiceRadioField):
    """Levels 0-4, each showing its descriptor, plus "Not sure"."""

    widget = NhsRadios()

    def __init__(self, label, question: Question, **kwargs):
        choices = [SelectChoice(str(level), f"Level {level}") for level in sorted(question.levels)]
        choices.append(SelectChoice(NOT_SURE, "Not sure"))
        super().__init__(
            label,
            choices=choices,
            validators=[Optional()],
            invalid_message="Select one of the levels shown, or Not sure",
            **kwargs,
        )
        self.hints = {str(level): text for level, text in question.levels.items()}


def field_names(question: Question) -> tuple[str, str, str]:
    return f"{question.id}-now", f"{question.id}-target", f"{question.id}-note"


class DomainForm(FlaskForm):
    revision = HiddenField()
    domain: Domain

    def question_fields(self, question: Question):
        now, target, note = field_names(question)
        return self[now], self[target], self[note]

    def answer_values(self) -> dict[str, AnswerValue]:
        values = {}
        for question in self.domain.questions:
            now, target, note = self.question_fields(question)
            values[question.id] = AnswerValue(
                current=LEVEL_VALUES.get(now.data),  # anything but a level is None; validation has said so
                current_unsure=now.data == NOT_SURE,
                target=LEVEL_VALUES.get(target.data),
                target_unsure=target.data == NOT_SURE,
                note=note.data or "",
            )
        return values

    def validate_answers(self, require_all: bool) -> bool:
        """Field checks, then the target-not-below-current rule; with require_all, every radio must be chosen."""
        valid = self.validate()
        for question, value in zip(self.domain.questions, self.answer_values().values(), strict=True):
            now, target, _ = self.question_fields(question)
            if require_all and not (value.current is not None or value.current_unsure):
                now.errors.append(f"Select where your PCN is now for: {question.text}")
                valid = False
            if require_all and not (value.target is not None or value.target_unsure):
                target.errors.append(f"Select where you want to be in six months for: {question.text}")
                valid = False
            if message := target_error(value):
                target.errors.append(f"{message}: {question.text}")
                valid = False
        return valid

    @staticmethod
    def data_for(domain: Domain, values: dict[str, AnswerValue], revision: int) -> dict:
        """Form data from saved answers, to fill the page."""
        data: dict[str, object] = {"revision": str(revision)}
        for question in domain.questions:
            value = values.get(question.id)
            if value is None:
                continue
            now, target, note = field_names(question)
            data[now] = (
                NOT_SURE if value.current_unsure else (str(value.current) if value.current is not None else None)
            )
            data[target] = (
                NOT_SURE if value.target_unsure else (str(value.target) if value.target is not None else None)
            )
            data[note] = value.note
        return data


def build_domain_form(domain: Domain, formdata=None, data: dict | None = None) -> DomainForm:
    attributes: dict[str, object] = {"domain": domain}
    for number, question in enumerate(domain.questions, start=1):
        now, target, note = field_names(question)
        attributes[now] = LevelField("Where is your PCN now?", question)
        attributes[target] = LevelField("Where do you want to be in six months?", question)
        attributes[note] = TextAreaField(
            "Note (optional)",
            description=NOTE_HINT,
            filters=[clean_paragraphs],
            validators=[
                PlainText(f"Your note on question {number}"),
                Length(max=NOTE_MAX, message=f"Note must be {NOTE_MAX} characters or fewer"),
            ],
            widget=NhsTextarea(),
        )
    form_class = type(f"DomainForm_{domain.id}", (DomainForm,), attributes)
    return form_class(formdata=formdata, data=data or {})
