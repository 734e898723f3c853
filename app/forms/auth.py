from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from .fields import clean_text
from .widgets import NhsEmailInput, NhsPasswordInput

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_FORMAT),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsEmailInput(),
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password"), Length(max=200, message="Password is too long")],
        widget=NhsPasswordInput(),
    )
