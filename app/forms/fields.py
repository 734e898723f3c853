"""Fields whose every message is written for people, not for developers, and a filter for typed text."""

from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import StopValidation, ValidationError


class _PlainChoice:
    invalid_message = "Select one of the options shown"

    def __init__(self, *args, invalid_message: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if invalid_message:
            self.invalid_message = invalid_message

    def pre_validate(self, form) -> None:
        values = {choice.value if hasattr(choice, "value") else choice[0] for choice in self.choices or []}
        if self.data is not None and self.data != "" and self.data not in values:
            raise ValidationError(self.invalid_message)


class ChoiceField(_PlainChoice, SelectField):
    pass


class ChoiceRadioField(_PlainChoice, RadioField):
    pass


class WholeNumberField(IntegerField):
    """Text that is not a whole number gets the field's own message, and no second one from its range check."""

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()


def clean_text(value):
    """Typed text, trimmed, without NUL characters (which some databases refuse)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value
