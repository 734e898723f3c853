"""Choosing a questionnaire: a PCN starting a self-assessment, and an administrator choosing what is offered."""

from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, StopValidation

from .fields import ChoiceRadioField
from .rounds import PlainMultipleChoice
from .widgets import NhsRadios


class StartForm(FlaskForm):
    """Which offered questionnaire to start. With one on offer, the page sends it as a hidden value."""

    questionnaire = ChoiceRadioField(
        "Which self-assessment do you want to start?",
        invalid_message="Choose a self-assessment from the list",
        validators=[DataRequired("Choose a self-assessment from the list")],
        widget=NhsRadios(),
    )

    def set_choices(self, offered) -> None:
        self.questionnaire.choices = [(q.id, q.title) for q in offered]
        self.questionnaire.hints = {q.id: summary(q) for q in offered}


class OfferForm(FlaskForm):
    offered = PlainMultipleChoice(
        "Offered to PCNs for self-assessment",
        description="PCNs choose from these when they start a self-assessment. Assessments already started keep "
        "their questionnaire.",
        invalid_message="Choose questionnaires from the list",
        coerce=str,
    )

    def set_choices(self, cores) -> None:
        self.offered.choices = [(q.id, q.title) for q in cores]
        self.offered.hints = {q.id: summary(q) for q in cores}

    def validate_offered(self, field) -> None:
        if not field.data:
            raise StopValidation("Offer at least one questionnaire, or PCNs could not start a self-assessment")


def summary(questionnaire) -> str:
    """One line on a questionnaire's size and scale, as people choosing between them need it."""
    return (
        f"{len(questionnaire.domains)} sections, {questionnaire.question_count} questions, about "
        f"{questionnaire.minutes()} minutes. Scale: {', '.join(questionnaire.scale.names)}."
    )
