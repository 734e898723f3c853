"""Fields whose every message is written for people, not for developers, and filters and checks for typed text."""

import unicodedata

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


ALLOWED_CONTROLS = {"\t", "\n", "\r"}
MAX_DATABASE_ID = 2**31 - 1


def clean_text(value):
    """One line of typed text, trimmed."""
    return value.strip() if isinstance(value, str) else value


def clean_paragraphs(value):
    """Typed paragraphs: trailing spaces and blank lines at either end go; indentation (a leading tab) stays."""
    return value.rstrip().lstrip("\r\n") if isinstance(value, str) else value


def _control_characters(text: str) -> int:
    return sum(1 for ch in text if ch not in ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc")


class PlainText:
    """Refuses hidden control characters (a NUL, an escape) with a message, never dropping them silently.

    The field is shown again without them, so the person sees what would be saved and saves it deliberately.
    """

    def __init__(self, name: str | None = None, message: str | None = None):
        self.name = name
        self.message = message

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and (count := _control_characters(field.data)):
            name = self.name or field.label.text.removesuffix(" (optional)")
            field.data = "".join(ch for ch in field.data if ch in ALLOWED_CONTROLS or unicodedata.category(ch) != "Cc")
            what = "a hidden character" if count == 1 else f"{count} hidden characters"
            if self.message:
                raise StopValidation(self.message)
            raise StopValidation(
                f"{name} had {what} that cannot be saved (such as a NUL). "
                "We have taken it out below: check the text, then save again."
            )


def revision_number(raw: str | None, missing: int = 0) -> int:
    """A form's hidden revision as a number; anything tampered with (or out of range) can never match, so -1."""
    try:
        value = int(raw) if raw else missing
    except ValueError:
        return -1
    return value if 0 <= value <= MAX_DATABASE_ID else -1
