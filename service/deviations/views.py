"""Pages of deviations."""

from flask import Blueprint

bp = Blueprint("deviations", __name__, template_folder="templates")
