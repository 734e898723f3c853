"""The roster upload form: one CSV file, shown with the NHS.UK file upload component."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup

from ..forms.widgets import render_component


class NhsFileUpload:
    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        base = {
            "id": field.id,
            "name": field.name,
            "label": {"text": field.label.text, "size": "s"},
            "errorMessage": {"text": field.errors[0]} if field.errors else None,
            "attributes": {"accept": ".csv,text/csv"},
        }
        if field.description:
            base["hint"] = {"text": field.description}
        html = render_component("file-upload", "fileUpload", base | (params or {}))
        # The browser's own file input, not the design system's scripted drop zone: the scripted button's accessible
        # name leaves out its visible text ("Choose file"), which speech-recognition users say to press it.
        return Markup(str(html).replace(' data-module="nhsuk-file-upload"', "", 1))


class RosterUploadForm(FlaskForm):
    file = FileField(
        "The ePCN file (CSV)",
        description="The PCN Core Partner Details sheet of the ePCN file, saved as CSV. 5 MB or smaller.",
        validators=[FileRequired("Select the CSV file of your ICB's PCNs")],
        widget=NhsFileUpload(),
    )
