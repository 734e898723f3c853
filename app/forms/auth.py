from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from .fields import PlainText, clean_text
from .widgets import NhsEmailInput, NhsPasswordInput

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"
HIDDEN_IN_PASSWORD = "Passwords cannot contain hidden control characters, such as a NUL. Type it again."
PASSWORD_MIN = 12
PASSWORD_MAX = 128


def existing_password_field(label: str, missing: str) -> PasswordField:
    """A password the person already has: no rules but a sane length and no hidden control characters."""
    return PasswordField(
        label,
        validators=[
            DataRequired(missing),
            PlainText(message=HIDDEN_IN_PASSWORD),
            Length(max=200, message="Password is too long"),
        ],
        widget=NhsPasswordInput(),
    )


def new_password_field(label: str, missing: str, name: str) -> PasswordField:
    """A password being chosen: the service's length rules, and no hidden control characters."""
    return PasswordField(
        label,
        description=f"At least {PASSWORD_MIN} characters. A few unrelated words make a strong password.",
        validators=[
            DataRequired(missing),
            PlainText(message=HIDDEN_IN_PASSWORD),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"{name} must be between {PASSWORD_MIN} and {PASSWORD_MAX} characters",
            ),
        ],
        widget=NhsPasswordInput(),
    )


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            PlainText("Email address"),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_FORMAT),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsEmailInput(),
    )
    password = existing_password_field("Password", "Enter your password")


class ChangePasswordForm(FlaskForm):
    current_password = existing_password_field("Current password", "Enter your current password")
    new_password = new_password_field("New password", "Enter a new password", "New password")
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired("Enter your new password again"),
            EqualTo("new_password", message="The new passwords do not match"),
        ],
        widget=NhsPasswordInput(),
    )
