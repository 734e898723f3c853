from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .fields import ChoiceRadioField, PlainText, clean_text
from .widgets import NhsInput, NhsRadios


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Token name",
        description="Say what it is for, so you can tell your tokens apart. For example, Power BI dashboard",
        validators=[
            DataRequired("Enter a name for the token"),
            PlainText(),
            Length(max=100, message="Token name must be 100 characters or fewer"),
        ],
        filters=[clean_text],
        widget=NhsInput(),
    )
    days = ChoiceRadioField(
        "Expires after",
        choices=[SelectChoice(str(days), f"{days} days") for days in (30, 90, 365)],
        default="90",
        invalid_message="Choose when the token expires: 30, 90 or 365 days",
        validators=[DataRequired("Choose when the token expires")],
        widget=NhsRadios(),
    )
