"""The readiness report: an HTML print view and an A4 PDF."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/assessments")
