"""The PCN's settings: whether its LMC sees its name in benchmarks (a clinical director's choice)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import ValidationError

NAMED_LABEL = "Name our PCN to our LMC in benchmarks"
TICKED = "y"
BAD_VALUE = "Tick the box to name your PCN to your LMC, or leave it unticked to be shown as a letter"


class BenchmarkNamingForm(FlaskForm):
    named_to_lmc = BooleanField(NAMED_LABEL, false_values=("",))

    def validate_named_to_lmc(self, field) -> None:
        # A browser sends the box's own value when it is ticked and nothing when it is not: anything else was not
        # sent by this page.
        raw = field.raw_data
        if raw and (len(raw) != 1 or raw[0] != TICKED):
            raise ValidationError(BAD_VALUE)
