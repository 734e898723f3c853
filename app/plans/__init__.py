"""The six-month action plan: view by month or by domain, edit, add, remove, regenerate, CSV."""

from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/assessments")
