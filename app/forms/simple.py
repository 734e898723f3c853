from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button-only form: nothing but the CSRF token to check."""
