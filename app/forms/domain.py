"""A domain page's form, built from the questionnaire data: two radios and a note per question.

Each level's descriptor (and what a PCN could point to) is shown once, with the choice of where the PCN is now;
the six-month target offers the scale's short level names.
"""

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..questionnaires import Domain, Question, Scale
from ..services.assessments import target_error
from ..services.scoring import AnswerValue
from .fields import ChoiceRadioField, PlainText, clean_paragraphs
from .widgets import NhsRadios, NhsTextarea

NOT_SURE = "not-sure"
NOT_APPLICABLE = "not-applicable"
NOT_APPLICABLE_LABEL = "Not applicable or not in place locally yet"
NOTE_MAX = 2000
NOTE_HINT = "Organisational information only: do not include anything about individual patients."


def level_value(raw: str | None, scale: Scale) -> int | None:
    """The level a posted value names, or None for anything that is not one of the scale's levels."""
    if raw is None or not raw.isdigit() or len(raw) > 2:
        return None
    level = int(raw)
    return level if level in scale.levels else None


def level_label(question: Question, scale: Scale, level: int) -> Markup:
    """A level with its descriptor in one label, so the page says each level once and stays short."""
    name = scale.name(level)
    descriptor = question.levels.get(level, "")
    if not descriptor or descriptor == name:
        return Markup('<strong class="app-level-name">{}</strong>').format(name)
    return Markup('<strong class="app-level-name">{}</strong> – {}').format(name, descriptor)


def evidence_hint(question: Question, level: int) -> Markup | None:
    if level not in question.evidence:
        return None
    return Markup('<span class="app-evidence__label">You could point to:</span> {}').format(question.evidence[level])


class LevelField(ChoiceRadioField):
    """The scale's levels plus "Not sure" (and, where the question allows, "not applicable"). With `described`,
    each level shows its descriptor and evidence; otherwise only the level's name."""

    widget = NhsRadios()

    def __init__(self, label, question: Question, scale: Scale, described: bool, **kwargs):
        choices, hints, divider = level_choices(question, scale, described)
        super().__init__(
            label,
            choices=list(choices),
            validators=[Optional()],
            invalid_message="Select one of the levels shown, or Not sure",
            **kwargs,
        )
        self.hints = hints
        self.divider_before = divider


def level_choices(question: Question, scale: Scale, described: bool) -> tuple[tuple, dict, str | None]:
    """A question's choices, hints and divider: the same for every PCN, so worked out once per question (below)."""
    key = (id(question), id(scale), described)
    found = _CHOICES.get(key)
    if found is not None and found[0] is question and found[1] is scale:
        return found[2]
    choices = [
        SelectChoice(str(level), level_label(question, scale, level) if described else scale.name(level))
        for level in scale.levels
    ]
    choices.append(SelectChoice(NOT_SURE, "Not sure"))
    if described and question.allows_not_applicable:
        choices.append(SelectChoice(NOT_APPLICABLE, NOT_APPLICABLE_LABEL))
    hints = {str(level): evidence_hint(question, level) for level in question.evidence} if described else {}
    if described and question.allows_not_applicable:
        hints[NOT_APPLICABLE] = question.not_applicable
    prepared = (tuple(choices), hints, NOT_SURE if described else None)
    _remember(_CHOICES, key, (question, scale, prepared))
    return prepared


# Worked out once per loaded questionnaire (keyed by the objects themselves, which the registry keeps while the
# questionnaire is loaded; a key is trusted only while it still names the same objects). Bounded: emptied when full.
_CHOICES: dict = {}
_FORM_CLASSES: dict = {}
_MAX_REMEMBERED = 512


def _remember(store: dict, key, value) -> None:
    if len(store) >= _MAX_REMEMBERED:
        store.clear()
    store[key] = value


def field_names(question: Question) -> tuple[str, str, str]:
    return f"{question.id}-now", f"{question.id}-target", f"{question.id}-note"


class DomainForm(FlaskForm):
    revision = HiddenField()
    domain: Domain
    scale: Scale

    def question_fields(self, question: Question):
        now, target, note = field_names(question)
        return self[now], self[target], self[note]

    def answer_values(self) -> dict[str, AnswerValue]:
        values = {}
        for question in self.domain.questions:
            now, target, note = self.question_fields(question)
            if now.data == NOT_APPLICABLE and question.allows_not_applicable:
                values[question.id] = AnswerValue(not_applicable=True, note=note.data or "")
                continue
            values[question.id] = AnswerValue(
                current=level_value(now.data, self.scale),  # anything but a level is None; validation has said so
                current_unsure=now.data == NOT_SURE,
                target=level_value(target.data, self.scale),
                target_unsure=target.data == NOT_SURE,
                note=note.data or "",
            )
        return values

    def validate_answers(self, require_all: bool) -> bool:
        """Field checks, then the target-not-below-current rule; with require_all, every radio must be chosen."""
        valid = self.validate()
        for question, value in zip(self.domain.questions, self.answer_values().values(), strict=True):
            now, target, _ = self.question_fields(question)
            if value.not_applicable:
                continue  # nothing to aim for: a target chosen before is let go
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
            data[note] = value.note
            if value.not_applicable:
                data[now] = NOT_APPLICABLE
                continue
            data[now] = (
                NOT_SURE if value.current_unsure else (str(value.current) if value.current is not None else None)
            )
            data[target] = (
                NOT_SURE if value.target_unsure else (str(value.target) if value.target is not None else None)
            )
        return data


def build_domain_form(domain: Domain, scale: Scale, formdata=None, data: dict | None = None) -> DomainForm:
    return _domain_form_class(domain, scale)(formdata=formdata, data=data or {})


def _domain_form_class(domain: Domain, scale: Scale) -> type[DomainForm]:
    """The form class for a domain page, made once per loaded questionnaire: its fields never change."""
    key = (id(domain), id(scale))
    found = _FORM_CLASSES.get(key)
    if found is not None and found[0] is domain and found[1] is scale:
        return found[2]
    attributes: dict[str, object] = {"domain": domain, "scale": scale}
    for number, question in enumerate(domain.questions, start=1):
        now, target, note = field_names(question)
        attributes[now] = LevelField("Where is your PCN now?", question, scale, described=True)
        attributes[target] = LevelField("Where do you want to be in six months?", question, scale, described=False)
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
    _remember(_FORM_CLASSES, key, (domain, scale, form_class))
    return form_class
